"""Correlation matrices of a profile: Pearson and Spearman (numbers), Cramér's V (categories).

Pearson and Spearman follow pandas' ``DataFrame.corr`` exactly: each pair uses the rows where
both values are present (pairwise deletion), Spearman ranks are recomputed on those rows with
ties sharing their mean rank. The sums are accumulated in blocks of rows (bounded memory) from
values centred on each column's mean, so the results agree with pandas to ~1e-12. Ranks are
re-derived for a pair from each column's stored sort order in O(n) (no re-sorting).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from loopml.data._profile_columns import CategoryColumn, NumberColumn, as_float

BLOCK_ROWS = 1 << 16
MAX_CRAMER_LEVELS = 100
"""Category columns with more distinct values are left out of Cramér's V."""


def pearson_matrix(frame: pd.DataFrame, columns: Sequence[NumberColumn]) -> np.ndarray:
    """Pairwise-complete Pearson correlations of ``columns`` (NaN where undefined)."""
    p = len(columns)
    shifts = np.array([c.stats.get("mean") or 0.0 for c in columns])
    n_pairs = np.zeros((p, p))
    sum_x = np.zeros((p, p))
    sum_xx = np.zeros((p, p))
    sum_xy = np.zeros((p, p))
    for start in range(0, len(frame), BLOCK_ROWS):
        block = np.empty((min(BLOCK_ROWS, len(frame) - start), p))
        for k, column in enumerate(columns):
            block[:, k] = as_float(frame[column.name].iloc[start : start + BLOCK_ROWS])
        present = ~np.isnan(block)
        weights = present.astype("float64")
        centred = np.where(present, block - shifts, 0.0)
        n_pairs += weights.T @ weights
        sum_x += centred.T @ weights
        sum_xx += (centred * centred).T @ weights
        sum_xy += centred.T @ centred
    return _correlation(n_pairs, sum_x, sum_xx, sum_xy)


def _correlation(
    n: np.ndarray, sum_x: np.ndarray, sum_xx: np.ndarray, sum_xy: np.ndarray
) -> np.ndarray:
    """r from pairwise sums: ``sum_x[i, j]`` sums column i over rows where i and j are present."""
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_i = sum_x / n
        mean_j = mean_i.T
        cov = sum_xy - n * mean_i * mean_j
        var_i = sum_xx - n * mean_i * mean_i
        var_j = var_i.T
        r = cov / np.sqrt(var_i * var_j)
    r[n < 2] = np.nan
    r = np.clip(r, -1.0, 1.0)
    np.fill_diagonal(r, np.where(np.diag(n) >= 2, 1.0, np.nan))
    return r


def _full_ranks(column: NumberColumn, n_rows: int) -> np.ndarray:
    ranks = np.zeros(n_rows)
    ranks[column.present] = column.ranks
    return ranks


def _ranks_within(column: NumberColumn, keep_rows: np.ndarray, n_rows: int) -> np.ndarray:
    """Average ranks of ``column`` among the rows in ``keep_rows`` (0 elsewhere), row order."""
    rows = column.rows_sorted
    keep = keep_rows[rows]
    seen = np.cumsum(keep)
    if column.tie_starts is None:
        rank_sorted: np.ndarray = seen
    else:
        starts = column.tie_starts
        ends = np.append(starts[1:], len(rows))
        before = np.where(starts > 0, seen[np.maximum(starts - 1, 0)], 0)
        in_group = seen[ends - 1] - before
        rank_sorted = np.repeat(before + (in_group + 1) / 2.0, ends - starts)
    ranks = np.zeros(n_rows)
    ranks[rows[keep]] = rank_sorted[keep]
    return ranks


def spearman_matrix(columns: Sequence[NumberColumn], n_rows: int) -> np.ndarray:
    """Pairwise-complete Spearman correlations of ``columns`` (pandas' definition)."""
    p = len(columns)
    result = np.full((p, p), np.nan)
    complete = [k for k, c in enumerate(columns) if c.present.all()]
    if complete:
        # One matrix product for the columns without missing values (ranks centred on the mean).
        centre = (n_rows + 1) / 2.0
        gram = np.zeros((len(complete), len(complete)))
        for start in range(0, n_rows, BLOCK_ROWS):
            block = np.column_stack(
                [columns[k].ranks[start : start + BLOCK_ROWS].astype("float64") for k in complete]
            )
            block -= centre
            gram += block.T @ block
        scale = np.sqrt(np.diag(gram))
        with np.errstate(invalid="ignore", divide="ignore"):
            sub = np.clip(gram / np.outer(scale, scale), -1.0, 1.0)
        result[np.ix_(complete, complete)] = sub
    for i in range(p):
        for j in range(i, p):
            if i in complete and j in complete:
                continue
            result[i, j] = result[j, i] = _spearman_pair(columns[i], columns[j], n_rows)
    for k in range(p):
        if columns[k].stats["count"] >= 2:
            result[k, k] = 1.0
    return result


def _spearman_pair(a: NumberColumn, b: NumberColumn, n_rows: int) -> float:
    both = a.present & b.present
    n = int(both.sum())
    if n < 2:
        return float("nan")
    ra = _full_ranks(a, n_rows) if (both == a.present).all() else _ranks_within(a, both, n_rows)
    rb = _full_ranks(b, n_rows) if (both == b.present).all() else _ranks_within(b, both, n_rows)
    # Both rank vectors are 0 outside the pair's rows and sum to n(n+1)/2 on them, so centring
    # reduces to subtracting n * centre**2 from each sum of products.
    shift = n * ((n + 1) / 2.0) ** 2
    var_a, var_b = float(np.dot(ra, ra)) - shift, float(np.dot(rb, rb)) - shift
    if var_a <= 0 or var_b <= 0:
        return float("nan")
    return float(np.clip((float(np.dot(ra, rb)) - shift) / np.sqrt(var_a * var_b), -1.0, 1.0))


def cramers_v(a: CategoryColumn, b: CategoryColumn) -> float:
    """Cramér's V (no bias correction) of two factorised columns, on rows where both are
    present; NaN when either has fewer than two levels there."""
    both = (a.codes >= 0) & (b.codes >= 0)
    table = np.bincount(
        a.codes[both] * len(b.levels) + b.codes[both], minlength=len(a.levels) * len(b.levels)
    ).reshape(len(a.levels), len(b.levels))
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    n = table.sum()
    k = min(table.shape) - 1
    if n == 0 or k < 1:
        return float("nan")
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    chi2 = float(((table - expected) ** 2 / expected).sum())
    return float(np.sqrt(min(1.0, chi2 / n / k)))


def cramers_matrix(columns: Sequence[CategoryColumn]) -> tuple[list[str], np.ndarray]:
    """Cramér's V between category columns with at most ``MAX_CRAMER_LEVELS`` levels."""
    kept = [c for c in columns if 1 < len(c.levels) <= MAX_CRAMER_LEVELS]
    result = np.eye(len(kept))
    for i in range(len(kept)):
        for j in range(i + 1, len(kept)):
            result[i, j] = result[j, i] = cramers_v(kept[i], kept[j])
    return [c.name for c in kept], result
