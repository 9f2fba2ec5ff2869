"""Per-column statistics of a profile, computed with vectorised numpy (one sort per number column).

A number column is sorted once (``argsort``); its quantiles, distinct count, histogram, IQR
outliers and average ranks (used for Spearman correlations and single-feature AUC) all come from
that one sorted copy. Text and category columns are factorised once; counts come from
``bincount`` of the codes. Means, variances and quantiles follow pandas' definitions (``ddof=1``,
linear interpolation between order statistics) so they agree with ``Series.mean/std/quantile``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

QUANTILES: tuple[float, ...] = (0.05, 0.25, 0.5, 0.75, 0.95)
HISTOGRAM_BINS = 30
TOP_CATEGORIES = 10

Keep = Callable[[np.ndarray], np.ndarray]
"""Where a column's arrays live between passes (identity in memory; a memory-mapped file for
tables too big to load, see :mod:`loopml.data._scan`)."""


def _same(array: np.ndarray) -> np.ndarray:
    return array


@dataclass
class NumberColumn:
    """What a number column keeps for later passes: which rows are present, the rows of the
    present values in ascending order, their average ranks (1-based, ties share the mean rank,
    in row order of the present values) and where runs of tied values start in sorted order
    (None when all values differ).

    ``rows_sorted`` is int32 and ``ranks`` float32 when that is exact (fewer than 2**23 values),
    and ``present`` of a column without missing values is a read-only broadcast ``True`` (no
    memory), so a column costs ~8-9 bytes per row between passes.
    """

    name: str
    present: np.ndarray = field(repr=False)
    rows_sorted: np.ndarray = field(repr=False)
    ranks: np.ndarray = field(repr=False)
    tie_starts: np.ndarray | None = field(repr=False)
    stats: dict[str, Any] = field(default_factory=dict)


@dataclass
class CategoryColumn:
    """A factorised column: ``codes`` per row (``-1`` for missing) and the distinct ``levels``."""

    name: str
    codes: np.ndarray
    levels: np.ndarray
    counts: np.ndarray
    stats: dict[str, Any] = field(default_factory=dict)


def as_float(series: pd.Series) -> np.ndarray:
    """``series`` as float64 numbers with NaN for missing values (nullable and bool dtypes too)."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        stamps = series.dt.tz_convert(None) if getattr(series.dt, "tz", None) else series
        numbers = stamps.to_numpy(dtype="datetime64[ns]").astype("int64").astype("float64")
        numbers[stamps.isna().to_numpy()] = np.nan
        return numbers
    if series.dtype == np.dtype("float64"):
        return series.to_numpy()  # NaN already marks missing values; no copy
    return series.to_numpy(dtype="float64", na_value=np.nan)


_MAX_RUNS_TO_FIX = 1000
"""Above this many misordered runs, :func:`sort_order` falls back to a plain argsort."""


def sort_order(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ascending order of float64 ``values`` (no NaN) and the values in that order; ties
    in any order.

    Faster than ``np.argsort``: each value's order-preserving 64-bit key keeps its top bits and
    takes the row number in its low bits, and the keys are sorted as plain integers (a SIMD sort).
    Values that share the kept bits (relative gaps below ~2**-32 at a million rows) come out in
    row order; those few runs are re-sorted by value afterwards.
    """
    n = len(values)
    bits = max(1, (n - 1).bit_length())
    sample = values[:: max(1, n // 2048)]
    if n < 2 or bits > 24 or 2 * len(np.unique(sample)) < len(sample):
        # Many ties (a count, a code) sort faster in numpy's argsort; so do tiny and huge columns.
        order = np.argsort(values)
        return order, np.take(values, order)
    raw = values.view("uint64")
    keys = raw >> np.uint64(63)
    np.negative(keys, out=keys)  # all ones for negative values, else zero
    keys |= np.uint64(1 << 63)
    keys ^= raw  # negative: bits flipped; positive: sign bit set
    keys &= ~np.uint64((1 << bits) - 1)
    keys |= np.arange(n, dtype="uint64")
    keys.sort()
    keys &= np.uint64((1 << bits) - 1)
    order = keys.view("int64")
    sorted_values = np.take(values, order)
    bad = np.flatnonzero(sorted_values[1:] < sorted_values[:-1])
    if not len(bad):
        return order, sorted_values
    # A misordered pair shares its kept bits (their order is monotone in the value): re-sort
    # each run of equal kept bits that holds one.
    kept = sorted_values.view("uint64") >> np.uint64(63)
    np.negative(kept, out=kept)
    kept |= np.uint64(1 << 63)
    kept ^= sorted_values.view("uint64")
    kept >>= np.uint64(bits)
    runs = np.unique(kept[bad])
    if len(runs) > _MAX_RUNS_TO_FIX:
        order = np.argsort(values)
        return order, np.take(values, order)
    starts = np.searchsorted(kept, runs, side="left")
    ends = np.searchsorted(kept, runs, side="right")
    del kept
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        local = np.argsort(sorted_values[start:end], kind="stable")
        order[start:end] = order[start:end][local]
        sorted_values[start:end] = sorted_values[start:end][local]
    return order, sorted_values


def _average_ranks(
    sorted_values: np.ndarray, order: np.ndarray
) -> tuple[np.ndarray, np.ndarray | None, int]:
    """Average ranks in row order, the starts of tied runs (None if no ties), the number of
    distinct values."""
    n = len(sorted_values)
    if n == 0:
        return np.empty(0), None, 0
    new_group = np.empty(n, dtype=bool)
    new_group[0] = True
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=new_group[1:])
    distinct = int(np.count_nonzero(new_group))
    dtype = "float32" if n < 2**23 else "float64"
    starts = None
    if distinct == n:
        ranks_sorted = np.arange(1, n + 1, dtype=dtype)
    else:
        starts = np.flatnonzero(new_group)
        ends = np.append(starts[1:], n)
        ranks_sorted = np.repeat(((starts + 1 + ends) / 2.0).astype(dtype), ends - starts)
    del new_group
    ranks = np.empty(n, dtype=dtype)
    ranks[order] = ranks_sorted
    return ranks, starts, distinct


def _quantile(sorted_values: np.ndarray, q: float) -> float:
    """pandas' default (linear) quantile of already sorted values."""
    position = (len(sorted_values) - 1) * q
    low = int(np.floor(position))
    high = min(low + 1, len(sorted_values) - 1)
    weight = position - low
    a, b = float(sorted_values[low]), float(sorted_values[high])
    return a + (b - a) * weight if weight < 0.5 else b - (b - a) * (1 - weight)


def number_column(name: str, series: pd.Series, *, keep: Keep = _same) -> NumberColumn:
    """Statistics of a number (or datetime) column: count, missing, distinct, min/max, mean,
    std, quantiles, skewness, zeros, IQR outliers and a histogram. ``keep`` stores the arrays
    kept for later passes."""
    numbers = as_float(series)
    present = ~np.isnan(numbers)
    complete = bool(present.all())
    values = numbers if complete else numbers[present]
    order, sorted_values = sort_order(values)
    ranks, tie_starts, distinct = _average_ranks(sorted_values, order)
    rows = order if complete else np.take(np.flatnonzero(present), order)
    rows_sorted = rows.astype("int32") if len(numbers) < 2**31 else rows
    del order, rows
    n = len(values)
    stats: dict[str, Any] = {
        "count": n,
        "missing": int(len(numbers) - n),
        "missing_share": (len(numbers) - n) / len(numbers) if len(numbers) else 0.0,
        "distinct": distinct,
    }
    if n:
        mean = float(values.sum() / n)
        deviations = values - mean
        powers = deviations * deviations
        m2 = float(powers.sum())
        quantiles = {str(q): _quantile(sorted_values, q) for q in QUANTILES}
        q1, q3 = quantiles["0.25"], quantiles["0.75"]
        iqr = q3 - q1
        low_fence, high_fence = q1 - 1.5 * iqr, q3 + 1.5 * iqr
        outliers = int(np.searchsorted(sorted_values, low_fence, side="left")) + int(
            n - np.searchsorted(sorted_values, high_fence, side="right")
        )
        skew = None
        if n > 2 and m2 > 0:
            powers *= deviations  # cubes, in place
            g1 = float(powers.sum() / n) / (m2 / n) ** 1.5
            skew = g1 * np.sqrt(n * (n - 1)) / (n - 2)
        stats.update(
            min=float(sorted_values[0]),
            max=float(sorted_values[-1]),
            mean=mean,
            std=float(np.sqrt(m2 / (n - 1))) if n > 1 else None,
            quantiles=quantiles,
            skew=skew,
            zeros=int(np.searchsorted(sorted_values, 0.0, side="right"))
            - int(np.searchsorted(sorted_values, 0.0, side="left")),
            outliers=outliers,
            outlier_fences=[low_fence, high_fence],
            histogram=_histogram(sorted_values),
        )
        del deviations, powers
    del numbers, values, sorted_values
    present = np.broadcast_to(np.True_, present.shape) if complete else keep(present)
    return NumberColumn(
        name,
        present,
        keep(rows_sorted),
        keep(ranks),
        None if tie_starts is None else keep(tie_starts),
        stats,
    )


def _histogram(sorted_values: np.ndarray) -> dict[str, list[float]]:
    low, high = float(sorted_values[0]), float(sorted_values[-1])
    if low == high:
        return {"edges": [low, high], "counts": [len(sorted_values)]}
    edges = np.linspace(low, high, HISTOGRAM_BINS + 1)
    cuts = np.searchsorted(sorted_values, edges, side="left")
    cuts[-1] = len(sorted_values)  # the last bin includes the maximum
    return {"edges": edges.tolist(), "counts": np.diff(cuts).tolist()}


def category_column(name: str, series: pd.Series, *, keep: Keep = _same) -> CategoryColumn:
    """Statistics of a text, category or boolean column: count, missing, distinct, the most
    frequent values with their counts, and text lengths. ``codes`` are int32 when that is
    exact; ``keep`` stores them for later passes."""
    codes, levels = pd.factorize(series, use_na_sentinel=True)
    codes = np.asarray(codes, dtype="int32" if len(levels) < 2**31 else "int64")
    counts = np.bincount(codes[codes >= 0], minlength=len(levels))
    n_missing = int((codes < 0).sum())
    top = np.argsort(-counts, kind="stable")[:TOP_CATEGORIES]
    level_values = np.asarray(levels, dtype=object)
    stats: dict[str, Any] = {
        "count": int(len(codes) - n_missing),
        "missing": n_missing,
        "missing_share": n_missing / len(codes) if len(codes) else 0.0,
        "distinct": len(levels),
        "top": [[_plain(level_values[i]), int(counts[i])] for i in top],
    }
    if len(levels) and isinstance(level_values[0], str):
        lengths = np.fromiter((len(v) for v in level_values), dtype="int64", count=len(levels))
        stats["length"] = {
            "min": int(lengths.min()),
            "max": int(lengths.max()),
            "mean": float((lengths * counts).sum() / max(counts.sum(), 1)),
        }
    return CategoryColumn(name, keep(codes), level_values, counts, stats)


def _plain(value: Any) -> Any:
    """A JSON-able scalar for a category level."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value
