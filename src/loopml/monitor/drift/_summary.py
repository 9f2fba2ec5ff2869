"""Summaries of one column's values: what drift tests read instead of raw rows.

A :class:`NumericSummary` keeps quantile bins (for PSI and Jensen-Shannon), a seeded sample (for
KS and Wasserstein), moments, and a plotting histogram; a :class:`CategoricalSummary` keeps the
count of every category. Both are JSON-able, so a reference profile computed once per model
version can be stored as an artifact and a drift check then reads only the new window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from loopml.errors import DataError, InvalidInputError

N_BINS = 10
"""Quantile bins of a numeric reference (PSI, Jensen-Shannon)."""
SAMPLE_SIZE = 5_000
"""Largest reference sample kept for KS and Wasserstein."""
PLOT_BINS = 30
"""Equal-width bins of the plotting histogram (plus one open tail bin on each side)."""
MAX_DISCRETE = 20
"""A numeric column with at most this many distinct values also keeps exact value counts."""


def category_label(value: Any) -> str:
    """The string a category is counted under: ``1``, ``1.0`` and ``"1"`` are all ``"1"``."""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _sorted_quantiles(ordered: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``np.quantile(ordered, q)`` (linear method) read off an already sorted array."""
    position = q * (ordered.size - 1)
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, ordered.size - 1)
    weight = position - low
    return ordered[low] + (ordered[high] - ordered[low]) * weight


@dataclass(frozen=True, eq=False)
class CategoricalSummary:
    """Counts of a column's categories (most frequent first) and of its nulls."""

    categories: tuple[str, ...]
    counts: np.ndarray
    n_null: int = 0

    @property
    def n(self) -> int:
        """Number of non-null values."""
        return int(self.counts.sum())

    @classmethod
    def from_values(cls, values: np.ndarray | pd.Series) -> CategoricalSummary:
        """Count ``values`` (nulls counted apart) in one hashing pass (``pd.factorize``)."""
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        valid = codes >= 0
        counts = np.bincount(codes[valid], minlength=len(uniques)).astype(np.int64)
        labels = np.array([category_label(u) for u in uniques], dtype=object)
        if len(set(labels)) < len(labels):  # e.g. 1 and 1.0 in an object column
            merged_codes, merged = pd.factorize(labels)
            counts = np.bincount(merged_codes, weights=counts, minlength=len(merged))
            counts, labels = counts.astype(np.int64), np.asarray(merged, dtype=object)
        order = np.lexsort((labels.astype(str), -counts))
        return cls(
            tuple(str(x) for x in labels[order]), counts[order], int(len(codes) - valid.sum())
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "categorical",
            "categories": list(self.categories),
            "counts": self.counts.tolist(),
            "n_null": self.n_null,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CategoricalSummary:
        return cls(
            tuple(str(c) for c in data["categories"]),
            np.asarray(data["counts"], dtype=np.int64),
            int(data.get("n_null", 0)),
        )


def align_categories(
    reference: CategoricalSummary, current: CategoricalSummary
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Counts of both sides over the union of categories: reference ones first, then unseen."""
    position = {c: i for i, c in enumerate(reference.categories)}
    labels = list(reference.categories)
    for category in current.categories:
        if category not in position:
            position[category] = len(labels)
            labels.append(category)
    ref_counts = np.zeros(len(labels), dtype=np.int64)
    ref_counts[: len(reference.categories)] = reference.counts
    cur_counts = np.zeros(len(labels), dtype=np.int64)
    cur_counts[[position[c] for c in current.categories]] = current.counts
    return labels, ref_counts, cur_counts


def bin_counts(sorted_values: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """Counts of sorted values in the bins ``(-inf, c1], (c1, c2], …, (ck, +inf)``."""
    inner = np.searchsorted(sorted_values, cuts, side="right")
    return np.diff(np.concatenate(([0], inner, [sorted_values.size]))).astype(np.int64)


def plot_counts(sorted_values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts in ``(-inf, e0), [e0, e1), …, [e_last, +inf)``: the plot bins with open tails."""
    inner = np.searchsorted(sorted_values, edges, side="left")
    return np.diff(np.concatenate(([0], inner, [sorted_values.size]))).astype(np.int64)


def _plot_edges(sorted_values: np.ndarray) -> np.ndarray:
    low, high = _sorted_quantiles(sorted_values, np.array([0.005, 0.995]))
    if high <= low:
        low, high = sorted_values[0], sorted_values[-1]
    if high <= low:
        low, high = low - 0.5, high + 0.5
    return np.linspace(low, high, PLOT_BINS + 1)


@dataclass(frozen=True, eq=False)
class NumericSummary:
    """Everything the numeric drift tests need from a column, without its rows.

    ``cuts`` are the interior edges of ``N_BINS`` reference quantile bins (duplicates dropped;
    the outer bins are open, so every value of a new window falls in some bin) and ``counts``
    the reference count in each. ``sample`` is a seeded sample of at most ``SAMPLE_SIZE``
    values (sorted). ``discrete`` holds exact value counts when there are at most
    ``MAX_DISCRETE`` distinct values. ``data`` (never serialised) holds all values, sorted,
    when the raw reference is at hand (exact-data mode).
    """

    n: int
    n_null: int
    mean: float
    std: float
    min: float
    max: float
    cuts: np.ndarray
    counts: np.ndarray
    plot_edges: np.ndarray
    plot_counts: np.ndarray
    sample: np.ndarray
    discrete: CategoricalSummary | None = None
    data: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def from_values(
        cls,
        values: np.ndarray,
        n_null: int = 0,
        *,
        sample_size: int = SAMPLE_SIZE,
        seed: int = 0,
        keep_data: bool = False,
        owned: bool = False,
    ) -> NumericSummary:
        """Summarise finite float ``values`` (nulls already removed and counted in ``n_null``).

        ``owned=True`` says the caller hands ``values`` over: it is sorted in place instead of
        copied (the sample is drawn before, so it is the same either way).

        Raises:
            DataError: ``values`` is empty.
        """
        if values.size == 0:
            raise DataError("Cannot summarise a column that has no non-null values.")
        sample = None
        if values.size > sample_size:
            sample = np.sort(np.random.default_rng(seed).choice(values, sample_size, False))
        if owned:
            values.sort()
            ordered = values
        else:
            ordered = np.sort(values)
        cuts = np.unique(_sorted_quantiles(ordered, np.linspace(0, 1, N_BINS + 1)[1:-1]))
        if sample is None:
            sample = ordered.copy()
        edges = _plot_edges(ordered)
        mean = float(ordered.mean())
        return cls(
            n=int(ordered.size),
            n_null=int(n_null),
            mean=mean,
            std=_std(ordered, mean),
            min=float(ordered[0]),
            max=float(ordered[-1]),
            cuts=cuts,
            counts=bin_counts(ordered, cuts),
            plot_edges=edges,
            plot_counts=plot_counts(ordered, edges),
            sample=sample,
            discrete=_discrete_counts(ordered),
            data=ordered if keep_data else None,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "numeric",
            "n": self.n,
            "n_null": self.n_null,
            "mean": self.mean,
            "std": self.std,
            "min": self.min,
            "max": self.max,
            "cuts": self.cuts.tolist(),
            "counts": self.counts.tolist(),
            "plot_edges": self.plot_edges.tolist(),
            "plot_counts": self.plot_counts.tolist(),
            "sample": self.sample.tolist(),
            "discrete": self.discrete.to_dict() if self.discrete is not None else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NumericSummary:
        discrete = data.get("discrete")
        return cls(
            n=int(data["n"]),
            n_null=int(data["n_null"]),
            mean=float(data["mean"]),
            std=float(data["std"]),
            min=float(data["min"]),
            max=float(data["max"]),
            cuts=np.asarray(data["cuts"], dtype=np.float64),
            counts=np.asarray(data["counts"], dtype=np.int64),
            plot_edges=np.asarray(data["plot_edges"], dtype=np.float64),
            plot_counts=np.asarray(data["plot_counts"], dtype=np.int64),
            sample=np.asarray(data["sample"], dtype=np.float64),
            discrete=CategoricalSummary.from_dict(discrete) if discrete else None,
        )


def _std(values: np.ndarray, mean: float) -> float:
    """Population standard deviation (``np.std``) with one temporary array, not two."""
    centred = values - mean
    return float(np.sqrt(np.dot(centred, centred) / values.size))


def _discrete_counts(ordered: np.ndarray) -> CategoricalSummary | None:
    # Evenly spaced order statistics with more distinct values than allowed prove the column
    # is not discrete without a pass over all values.
    probe = ordered[
        np.linspace(0, ordered.size - 1, min(ordered.size, 8 * MAX_DISCRETE), dtype=int)
    ]
    if np.unique(probe).size > MAX_DISCRETE:
        return None
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    if starts.size > MAX_DISCRETE:
        return None
    counts = np.diff(np.append(starts, ordered.size)).astype(np.int64)
    labels = [category_label(v) for v in ordered[starts]]
    order = np.argsort(-counts, kind="stable")
    return CategoricalSummary(tuple(labels[i] for i in order), counts[order])


ColumnSummary = NumericSummary | CategoricalSummary
"""What a reference profile keeps per column."""


def summary_from_dict(data: dict[str, Any]) -> ColumnSummary:
    """Read a summary written by ``to_dict`` (its ``kind`` says which).

    Raises:
        DataError: ``kind`` is neither ``numeric`` nor ``categorical``.
    """
    kind = data.get("kind")
    if kind == "numeric":
        return NumericSummary.from_dict(data)
    if kind == "categorical":
        return CategoricalSummary.from_dict(data)
    raise DataError(f"A stored column summary has unknown kind {kind!r}.")


def finite_values(values: np.ndarray, what: str) -> np.ndarray:
    """``values`` as float64 without NaN/infinity, for the numeric tests' raw-array input.

    Raises:
        InvalidInputError: the array is not numeric or holds no finite value.
    """
    try:
        array = np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"The {what} values must be numbers for this drift test.",
            hint="Use a categorical test (chi2, psi, jensenshannon) for categories.",
        ) from exc
    finite = np.isfinite(array)
    if not finite.all():
        array = array[finite]
    if array.size == 0:
        raise InvalidInputError(f"The {what} values hold no finite number to test.")
    return array
