"""Correlation matrices of a profile: Pearson and Spearman (numbers), Cramér's V (categories).

Pearson and Spearman follow pandas' ``DataFrame.corr`` exactly: each pair uses the rows where
both values are present (pairwise deletion), Spearman ranks are recomputed on those rows with
ties sharing their mean rank. The sums are accumulated in blocks of rows (bounded memory) from
values centred on each column's mean, so the results agree with pandas to ~1e-12. Ranks are
re-derived for a pair from each column's stored sort order in O(n) (no re-sorting).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from loopml.data._profile_columns import CategoryColumn, NumberColumn, as_float
from loopml.data._scan import BLOCK_ROWS

MAX_CRAMER_LEVELS = 100
"""Category columns with more distinct values are left out of Cramér's V."""


def pearson_matrix(blocks: Iterable[pd.DataFrame], columns: Sequence[NumberColumn]) -> np.ndarray:
    """Pairwise-complete Pearson correlations of ``columns`` (NaN where undefined), summed over
    ``blocks`` of rows holding those columns.

    Pairs of columns without missing values need no pairwise counts, so besides the one product
    of centred values only the products with the columns that have missing values (``gaps``)
    are computed.
    """
    p = len(columns)
    shifts = np.array([c.stats.get("mean") or 0.0 for c in columns])
    gaps = [k for k, c in enumerate(columns) if c.stats["missing"]]
    g = len(gaps)
    n_rows = 0
    col_x, col_xx = np.zeros(p), np.zeros(p)
    x_gaps, xx_gaps, w_gaps = np.zeros((p, g)), np.zeros((p, g)), np.zeros((g, g))
    sum_xy = np.zeros((p, p))
    for rows in blocks:
        block = np.empty((len(rows), p))
        for k, column in enumerate(columns):
            block[:, k] = as_float(rows[column.name])
        block -= shifts
        if g:
            present = ~np.isnan(block[:, gaps])
            block[:, gaps] = np.where(present, block[:, gaps], 0.0)
            weights = present.astype("float64")
        squares = block * block
        n_rows += len(block)
        col_x += block.sum(axis=0)
        col_xx += squares.sum(axis=0)
        sum_xy += block.T @ block
        if g:
            x_gaps += block.T @ weights
            xx_gaps += squares.T @ weights
            w_gaps += weights.T @ weights
    n_pairs = np.full((p, p), float(n_rows))
    sum_x = np.repeat(col_x[:, None], p, axis=1)
    sum_xx = np.repeat(col_xx[:, None], p, axis=1)
    if g:
        n_pairs[:, gaps] = np.diag(w_gaps)[None, :]
        n_pairs[gaps, :] = n_pairs[:, gaps].T
        n_pairs[np.ix_(gaps, gaps)] = w_gaps
        sum_x[:, gaps] = x_gaps
        sum_xx[:, gaps] = xx_gaps
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
    if column.stats["count"] == n_rows:
        return np.asarray(column.ranks, dtype="float64")
    ranks = np.zeros(n_rows)
    ranks[column.present] = column.ranks
    return ranks


def _within_sorted(
    column: NumberColumn, keep_rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int]:
    """Average ranks of ``column`` among the rows in ``keep_rows``, in the column's sorted order
    (meaningless where the row is not kept), which of its sorted rows are kept, and how many."""
    keep = keep_rows[column.rows_sorted]
    seen = np.cumsum(keep, dtype="float64")  # exact: counts stay far below 2**53
    n = int(seen[-1]) if len(seen) else 0
    if column.tie_starts is None:
        return seen, keep, n
    starts = column.tie_starts
    ends = np.append(starts[1:], len(keep))
    before = np.where(starts > 0, seen[np.maximum(starts - 1, 0)], 0)
    in_group = seen[ends - 1] - before
    return np.repeat(before + (in_group + 1) / 2.0, ends - starts), keep, n


def _ranks_within(column: NumberColumn, keep_rows: np.ndarray, n_rows: int) -> np.ndarray:
    """Average ranks of ``column`` among the rows in ``keep_rows`` (0 elsewhere), row order."""
    rank_sorted, keep, _n = _within_sorted(column, keep_rows)
    ranks = np.zeros(n_rows)
    ranks[column.rows_sorted[keep]] = rank_sorted[keep]
    return ranks


def spearman_matrix(columns: Sequence[NumberColumn], n_rows: int) -> np.ndarray:
    """Pairwise-complete Spearman correlations of ``columns`` (pandas' definition).

    Columns without missing values share one matrix product of their ranks. Each pair with a
    column that has missing values re-ranks the other column on the pair's rows in its stored
    sort order, and multiplies in that order (one gather, no scatter).
    """
    p = len(columns)
    result = np.full((p, p), np.nan)
    complete = [k for k, c in enumerate(columns) if c.stats["count"] == n_rows]
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
    is_complete = set(complete)
    for i in range(p):
        if i in is_complete:
            continue
        a = columns[i]
        a_ranks = _full_ranks(a, n_rows)  # reused for every partner of this column
        a_squares = float(np.dot(a_ranks, a_ranks))
        a_small = a_ranks.astype(_gather_dtype(n_rows))
        for j in range(p):
            if j != i and (j in is_complete or j > i):
                value = _spearman_pair(a, (a_ranks, a_small, a_squares), columns[j], n_rows)
                result[i, j] = result[j, i] = value
    for k in range(p):
        if columns[k].stats["count"] >= 2:
            result[k, k] = 1.0
    return result


def _gather_dtype(n_rows: int) -> str:
    """float32 holds every average rank exactly below 2**23 rows, and halves the memory a random
    gather touches."""
    return "float32" if n_rows < 2**23 else "float64"


def _spearman_pair(
    a: NumberColumn,
    a_parts: tuple[np.ndarray, np.ndarray, float],
    b: NumberColumn,
    n_rows: int,
) -> float:
    """Spearman's r of ``a`` (with missing values; ``a_parts``: its ranks in row order, 0 where
    missing, as float64 and as the gather dtype, and their sum of squares) and ``b`` on the
    rows where both are present."""
    a_ranks, a_small, a_squares = a_parts
    b_complete = b.stats["count"] == n_rows
    both = a.present if b_complete else a.present & b.present
    n = int(a.stats["count"]) if b_complete else int(both.sum())
    if n < 2:
        return float("nan")
    if not b_complete and n < a.stats["count"]:  # some of a's rows drop out: re-rank a
        a_ranks = _ranks_within(a, both, n_rows)
        a_squares = float(np.dot(a_ranks, a_ranks))
        a_small = a_ranks.astype(_gather_dtype(n_rows))
    if n == b.stats["count"]:  # b is present exactly on the pair's rows: its ranks stand
        b_ranks = _full_ranks(b, n_rows)
        dot, b_squares = float(np.dot(a_ranks, b_ranks)), float(np.dot(b_ranks, b_ranks))
    else:
        # Sum in b's sorted order: a's ranks are 0 off the pair's rows, so they drop out.
        rank_sorted, keep, _n = _within_sorted(b, both)
        dot = float(np.dot(a_small[b.rows_sorted].astype("float64"), rank_sorted))
        if b.tie_starts is None:  # the kept ranks are exactly 1..n
            b_squares = n * (n + 1) * (2 * n + 1) / 6.0
        else:
            rank_sorted[~keep] = 0.0
            b_squares = float(np.dot(rank_sorted, rank_sorted))
    # Both rank vectors sum to n(n+1)/2 on the pair's rows, so centring reduces to subtracting
    # n * centre**2 from each sum of products.
    shift = n * ((n + 1) / 2.0) ** 2
    var_a, var_b = a_squares - shift, b_squares - shift
    if var_a <= 0 or var_b <= 0:
        return float("nan")
    return float(np.clip((dot - shift) / np.sqrt(var_a * var_b), -1.0, 1.0))


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
