"""Correlation matrices of a profile: Pearson and Spearman (numbers), Cramér's V (categories).

Pearson and Spearman follow pandas' ``DataFrame.corr`` exactly: each pair uses the rows where
both values are present (pairwise deletion), Spearman ranks are recomputed on those rows with
ties sharing their mean rank; a column without variance has NaN everywhere, its diagonal
included. The sums are accumulated in blocks of rows (bounded memory) from values centred on each
column's mean, so the results agree with pandas to ~1e-12. Ranks are re-derived for a pair from
each column's stored sort order in O(n) (no re-sorting): summed in one column's sorted order, its
ranks among the pair's rows are a running count of them, so a pair costs one gather of the other
column's ranks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from loopml.data._profile_columns import CategoryColumn, NumberColumn, as_float
from loopml.data._scan import BLOCK_ROWS

GATHER_ROWS = 1 << 17
"""Positions of a sorted order gathered at once by the pairwise Spearman sums."""
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
    col_x = np.zeros(p)
    x_gaps, xx_gaps, w_gaps = np.zeros((p, g)), np.zeros((p, g)), np.zeros((g, g))
    sum_xy = np.zeros((p, p))
    for rows in blocks:
        size = len(rows)
        block = np.empty((size, p), order="F")  # columns contiguous: filled one at a time
        for k, column in enumerate(columns):
            np.subtract(as_float(rows[column.name]), shifts[k], out=block[:, k])
        weights = np.empty((size, g), order="F")
        for w, k in enumerate(gaps):
            missing = np.isnan(block[:, k])
            np.logical_not(missing, out=weights[:, w], casting="unsafe")
            block[missing, k] = 0.0
        n_rows += size
        col_x += block.sum(axis=0)
        sum_xy += block.T @ block
        if g:
            x_gaps += block.T @ weights
            xx_gaps += (block * block).T @ weights
            w_gaps += weights.T @ weights
    col_xx = np.diag(sum_xy).copy()  # missing values are 0 in the block
    n_pairs = np.full((p, p), float(n_rows))
    sum_x = np.repeat(col_x[:, None], p, axis=1)
    sum_xx = np.repeat(col_xx[:, None], p, axis=1)
    if g:
        n_pairs[:, gaps] = np.diag(w_gaps)[None, :]
        n_pairs[gaps, :] = n_pairs[:, gaps].T
        n_pairs[np.ix_(gaps, gaps)] = w_gaps
        sum_x[:, gaps] = x_gaps
        sum_xx[:, gaps] = xx_gaps
    r = _correlation(n_pairs, sum_x, sum_xx, sum_xy)
    for k, column in enumerate(columns):
        if column.stats["distinct"] < 2:  # no variance: pandas' r is NaN, even with itself
            r[k, k] = np.nan
    return r


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


def _full_ranks(column: NumberColumn, n_rows: int, dtype: str = "float64") -> np.ndarray:
    """Average ranks of ``column`` in row order, 0 where it is missing."""
    if column.stats["count"] == n_rows:
        return np.asarray(column.ranks, dtype=dtype)
    ranks = np.zeros(n_rows, dtype=dtype)
    ranks[column.present] = column.ranks
    return ranks


def _ranks_within(
    column: NumberColumn, keep_rows: np.ndarray, n_rows: int, dtype: str
) -> np.ndarray:
    """Average ranks of ``column`` among the rows in ``keep_rows`` (0 elsewhere), row order: a
    running count of the kept rows in the column's sorted order (by tied run when it has ties)."""
    order = column.rows_sorted
    keep = np.empty(len(order), dtype=bool)
    for start in range(0, len(order), GATHER_ROWS):  # the order widened a block at a time
        rows = np.asarray(order[start : start + GATHER_ROWS], dtype=np.intp)
        np.take(keep_rows, rows, out=keep[start : start + GATHER_ROWS])
    seen = np.cumsum(keep, dtype="int64" if len(keep) >= 2**31 else "int32")
    if column.tie_starts is None:
        rank_sorted = seen
    else:
        starts = column.tie_starts
        ends = np.append(starts[1:], len(keep))
        before = np.where(starts > 0, seen[np.maximum(starts - 1, 0)], 0)
        in_group = seen[ends - 1] - before
        rank_sorted = np.repeat((before + (in_group + 1) / 2.0).astype(dtype), ends - starts)
    rank_sorted[~keep] = 0
    ranks = np.zeros(n_rows, dtype=dtype)
    for start in range(0, len(order), GATHER_ROWS):
        rows = np.asarray(order[start : start + GATHER_ROWS], dtype=np.intp)
        ranks[rows] = rank_sorted[start : start + GATHER_ROWS]
    return ranks


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """Sum of products accumulated in float64 (the inputs may be float32 or integers)."""
    return float(np.einsum("i,i->", a, b, dtype="float64", casting="unsafe"))


def _rank_gram(columns: Sequence[NumberColumn], n_rows: int) -> np.ndarray:
    """Sums of products of the centred ranks of columns without missing values."""
    centre = (n_rows + 1) / 2.0
    gram = np.zeros((len(columns), len(columns)))
    for start in range(0, n_rows, BLOCK_ROWS):
        block = np.empty((min(BLOCK_ROWS, n_rows - start), len(columns)))
        for k, column in enumerate(columns):
            block[:, k] = column.ranks[start : start + BLOCK_ROWS]
        block -= centre
        gram += block.T @ block
    return gram


def spearman_matrix(
    columns: Sequence[NumberColumn], n_rows: int, *, workers: int = 1
) -> np.ndarray:
    """Pairwise-complete Spearman correlations of ``columns`` (pandas' definition).

    Columns without missing values share one matrix product of their ranks. A pair with a
    column that has missing values sums its products in the sorted order of one column ``b``:
    the other's ranks (0 off the pair's rows) are gathered in that order, and ``b``'s ranks
    among the pair's rows are a running count of the kept rows (by tied run when ``b`` has
    ties). ``workers`` threads share the pairs (numpy releases the GIL).
    """
    p = len(columns)
    result = np.full((p, p), np.nan)
    complete = [k for k, c in enumerate(columns) if c.stats["count"] == n_rows]
    if complete:
        gram = _rank_gram([columns[k] for k in complete], n_rows)
        scale = np.sqrt(np.diag(gram))
        with np.errstate(invalid="ignore", divide="ignore"):
            sub = np.clip(gram / np.outer(scale, scale), -1.0, 1.0)
        result[np.ix_(complete, complete)] = sub
    is_complete = set(complete)
    gaps = [k for k in range(p) if k not in is_complete]
    dtype = _gather_dtype(n_rows)
    # One task per column with missing values and share of its partners (half of them when
    # threads share the work, so the tasks balance); a task holds that column's ranks only.
    tasks: list[tuple[int, list[int]]] = []
    for i in gaps:
        partners = [j for j in range(p) if j != i and (j in is_complete or j > i)]
        split = (len(partners) + 1) // 2 if workers > 1 else len(partners)
        tasks += [(i, partners[at : at + split]) for at in range(0, len(partners), split or 1)]

    def task(item: tuple[int, list[int]]) -> list[float]:
        i, partners = item
        a = columns[i]
        ranks = _full_ranks(a, n_rows, dtype)
        squares = _dot(a.ranks, a.ranks)
        return [_spearman_pair(a, (ranks, squares), columns[j], n_rows) for j in partners]

    if workers > 1 and len(tasks) > 1:
        with ThreadPoolExecutor(workers) as pool:
            values = list(pool.map(task, tasks))
    else:
        values = [task(item) for item in tasks]
    for (i, partners), row in zip(tasks, values, strict=True):
        for j, value in zip(partners, row, strict=True):
            result[i, j] = result[j, i] = value
    for k in range(p):
        if columns[k].stats["distinct"] >= 2:  # else no variance: NaN, as pandas
            result[k, k] = 1.0
    return result


def _gather_dtype(n_rows: int) -> str:
    """float32 holds every average rank exactly below 2**23 rows, and halves the memory a random
    gather touches."""
    return "float32" if n_rows < 2**23 else "float64"


def _spearman_pair(
    a: NumberColumn,
    a_parts: tuple[np.ndarray, float],
    b: NumberColumn,
    n_rows: int,
) -> float:
    """Spearman's r of ``a`` (with missing values; ``a_parts``: its ranks in row order, 0 where
    missing, in the gather dtype, and their sum of squares) and ``b`` on the rows where both
    are present."""
    a_ranks, a_squares = a_parts
    b_complete = b.stats["count"] == n_rows
    both = a.present if b_complete else a.present & b.present
    n = int(a.stats["count"]) if b_complete else int(np.count_nonzero(both))
    if n < 2:
        return float("nan")
    if not b_complete and n < a.stats["count"]:  # some of a's rows drop out: re-rank a
        a_ranks = _ranks_within(a, both, n_rows, a_ranks.dtype.name)
        a_squares = _dot(a_ranks, a_ranks)
    if n == b.stats["count"]:  # b is present exactly on the pair's rows: its ranks stand
        dot = _dot(a_ranks[b.present], b.ranks)
        b_squares = _dot(b.ranks, b.ranks)
    else:
        dot, b_squares = _in_sorted_order(a_ranks, b)
    # Both rank vectors sum to n(n+1)/2 on the pair's rows, so centring reduces to subtracting
    # n * centre**2 from each sum of products.
    shift = n * ((n + 1) / 2.0) ** 2
    var_a, var_b = a_squares - shift, b_squares - shift
    if var_a <= 0 or var_b <= 0:
        return float("nan")
    return float(np.clip((dot - shift) / np.sqrt(var_a * var_b), -1.0, 1.0))


def _in_sorted_order(a_ranks: np.ndarray, b: NumberColumn) -> tuple[float, float]:
    """The sum of products of ``a_ranks`` (row order; >= 1 on the kept rows, 0 elsewhere) with
    ``b``'s average ranks among the kept rows, and the sum of squares of the latter.

    Summed in ``b``'s sorted order, ``GATHER_ROWS`` at a time (bounded memory): ``b``'s ranks
    among the kept rows are a running count of them, or one mean rank per tied run of ``b``.
    """
    order, starts = b.rows_sorted, b.tie_starts
    total, dot, seen = len(order), 0.0, 0
    kept = np.zeros(0 if starts is None else len(starts), dtype="int64")
    sums = np.zeros(len(kept))
    count = "int32" if total < 2**31 else "int64"  # int32 sums run several times faster
    for start in range(0, total, GATHER_ROWS):
        end = min(start + GATHER_ROWS, total)
        gathered = np.take(a_ranks, np.asarray(order[start:end], dtype=np.intp))
        keep = gathered > 0
        if starts is None:
            running = np.cumsum(keep, dtype=count)
            running += seen
            dot += _dot(gathered, running)
            seen = int(running[-1])
            continue
        # The tied runs that meet [start, end); the first may begin before ``start``.
        first = int(np.searchsorted(starts, start, side="right")) - 1
        last = int(np.searchsorted(starts, end, side="left"))
        local = starts[first:last] - start
        local[0] = 0
        kept[first:last] += np.add.reduceat(keep, local, dtype="int64")
        sums[first:last] += np.add.reduceat(gathered, local, dtype="float64")
    if starts is None:
        return dot, seen * (seen + 1) * (2 * seen + 1) / 6.0
    mean_rank = (np.cumsum(kept) - kept) + (kept + 1) / 2.0
    return float(np.dot(mean_rank, sums)), float(np.dot(kept, mean_rank * mean_rank))


def cramers_v(a: CategoryColumn, b: CategoryColumn) -> float:
    """Cramér's V (no bias correction) of two factorised columns, on rows where both are
    present; NaN when either has fewer than two levels there."""
    # Codes shifted by one (missing: 0) index a table with a row and a column for missing
    # values, dropped at the end; counted a block of rows at a time (bounded memory).
    shape = (len(a.levels) + 1, len(b.levels) + 1)
    counts = np.zeros(shape[0] * shape[1], dtype="int64")
    for start in range(0, len(a.codes), GATHER_ROWS):
        cells = np.add(a.codes[start : start + GATHER_ROWS], 1, dtype=np.intp)
        cells *= shape[1]
        cells += b.codes[start : start + GATHER_ROWS]
        cells += 1
        counts += np.bincount(cells, minlength=len(counts))
    table = counts.reshape(shape)[1:, 1:]
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
