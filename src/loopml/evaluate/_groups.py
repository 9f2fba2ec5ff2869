"""Rows grouped by one column: categories as they are, many-valued numbers in quantile bins.

Shared by fairness (groups of a sensitive attribute) and slice analysis (groups of any feature).
Every row gets a group, so missing values form a group of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from loopml.data import ColumnSpec

MISSING_GROUP = "(missing)"
OTHER_GROUP = "(other)"
MAX_DISTINCT_AS_CATEGORIES = 10
"""A numeric column with at most this many distinct values is grouped by value, not binned."""


@dataclass(frozen=True)
class Grouping:
    """Integer group codes ``0..len(labels)-1`` for each row, and the label of each code."""

    column: str
    codes: np.ndarray
    labels: list[str]
    binned: bool

    @property
    def n_groups(self) -> int:
        return len(self.labels)

    def names(self) -> np.ndarray:
        """The group label of every row (object array)."""
        return np.asarray(self.labels, dtype=object)[self.codes]


def _number(value: float) -> str:
    return f"{value:.4g}"


def _numeric_values(series: pd.Series) -> np.ndarray:
    values = pd.to_numeric(series, errors="coerce")
    return values.astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def _binned(column: str, values: np.ndarray, n_bins: int) -> Grouping:
    present = values[~np.isnan(values)]
    edges = np.unique(np.quantile(present, np.linspace(0, 1, n_bins + 1)))
    inner = edges[1:-1]
    codes = np.searchsorted(inner, values, side="right")
    bounds = [-np.inf, *inner, np.inf]
    labels = []
    for i in range(len(inner) + 1):
        low = _number(edges[0]) if i == 0 else _number(bounds[i])
        high = _number(edges[-1]) if i == len(inner) else _number(bounds[i + 1])
        labels.append(f"[{low}, {high}]" if i == len(inner) else f"[{low}, {high})")
    return _with_missing(column, codes, labels, np.isnan(values), binned=True)


def _with_missing(
    column: str, codes: np.ndarray, labels: list[str], missing: np.ndarray, *, binned: bool
) -> Grouping:
    codes = np.asarray(codes, dtype=np.int64)
    if missing.any():
        codes = np.where(missing, len(labels), codes)
        labels = [*labels, MISSING_GROUP]
    return Grouping(column, codes, labels, binned)


def _categorical(column: str, series: pd.Series, max_groups: int) -> Grouping:
    text = series.astype(object).where(series.notna(), None)
    missing = text.isna().to_numpy()
    as_text = text[~missing].map(str)
    counts = as_text.value_counts()
    kept = [str(v) for v in counts.index[:max_groups]]
    labels = sorted(kept)
    if len(counts) > max_groups:
        labels.append(OTHER_GROUP)
    index = pd.Index(labels)
    codes = np.full(len(series), -1, dtype=np.int64)
    found = index.get_indexer(pd.Index(as_text.to_numpy(), dtype=object))
    if len(counts) > max_groups:
        found = np.where(found < 0, len(labels) - 1, found)
    codes[~missing] = found
    return _with_missing(column, codes, labels, missing, binned=False)


def group_rows(
    series: pd.Series, spec: ColumnSpec | None = None, *, n_bins: int = 4, max_groups: int = 20
) -> Grouping:
    """Group the rows of ``series``.

    Numeric columns (by ``spec.dtype``, or the pandas dtype without a spec) with more than
    :data:`MAX_DISTINCT_AS_CATEGORIES` distinct values are cut at ``n_bins`` quantiles (fewer
    when values tie); other columns group by value, keeping the ``max_groups`` most frequent
    values and folding the rest into ``(other)``. Missing values form a ``(missing)`` group.
    """
    numeric = (
        spec.is_numeric
        if spec is not None
        else (pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series))
    )
    column = str(series.name)
    if numeric:
        values = _numeric_values(series)
        present = values[~np.isnan(values)]
        if np.unique(present).size > MAX_DISTINCT_AS_CATEGORIES:
            return _binned(column, values, n_bins)
        labels = [_number(v) for v in np.unique(present)]
        codes = np.searchsorted(np.unique(present), np.nan_to_num(values))
        return _with_missing(column, codes, labels, np.isnan(values), binned=False)
    return _categorical(column, series, max_groups)


def can_group(spec: ColumnSpec) -> bool:
    """Whether a column makes meaningful groups (not free text, identifiers or timestamps)."""
    return spec.dtype in ("integer", "float", "boolean", "category") and spec.role != "text"
