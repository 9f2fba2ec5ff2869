"""Worst-slice error analysis: where, in terms of the data's own columns, the model errs most.

A slice is the rows where one column takes one value (categories; numbers cut at quantiles, see
:mod:`loopml.evaluate._groups`) or where two columns take one value each. Each row has a loss:

- classification: the error indicator (1 when the predicted class is wrong), so a slice's
  metric is its error rate, tested against the rest of the rows with a one-sided
  two-proportion z-test;
- regression: the absolute error, so a slice's metric is its MAE, tested against the rest with
  a one-sided Welch's t-test.

Only slices with at least ``max(min_rows, min_share * rows)`` rows are tested. p-values are
adjusted for the number of slices tested with the Benjamini-Hochberg procedure (``q_value``);
a slice is ``significant`` when its q-value is below ``alpha``. Slices are ranked by their gap
to the overall metric (worst first). Everything is computed from per-slice sums (``bincount``
over integer codes), so 100k rows and hundreds of column pairs take well under a second.
"""

from __future__ import annotations

import math
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from loopml.data import DataContract
from loopml.evaluate._groups import Grouping, can_group, group_rows
from loopml.evaluate._scored import Scored

MIN_SLICE_ROWS = 30
MIN_SLICE_SHARE = 0.01
MAX_PAIR_COLUMNS = 12
"""Pairs are formed among at most this many columns (the most important ones when known)."""
ALPHA = 0.05


def slice_columns(contract: DataContract, frame: pd.DataFrame, ranked: list[str]) -> list[str]:
    """Columns to slice by: groupable features and sensitive columns present in ``frame``,
    those named in ``ranked`` (e.g. by importance) first, then in contract order."""
    usable = [
        c.name
        for c in contract.columns
        if c.name in frame.columns
        and c.name != contract.target
        and (c.is_model_input or c.sensitive)
        and can_group(c)
    ]
    order = {name: i for i, name in enumerate(ranked)}
    return sorted(usable, key=lambda n: order.get(n, len(order)))


def _loss(scored: Scored) -> tuple[np.ndarray, str]:
    if scored.task == "regression":
        return np.abs(scored.pred - scored.y), "mae"
    return (scored.pred != scored.y).astype(float), "error_rate"


def _sums(codes: np.ndarray, size: int, loss: np.ndarray) -> tuple[np.ndarray, ...]:
    n = np.bincount(codes, minlength=size).astype(float)
    s = np.bincount(codes, weights=loss, minlength=size)
    q = np.bincount(codes, weights=loss**2, minlength=size)
    return n, s, q


def _collect(groupings: list[Grouping], loss: np.ndarray, pair_limit: int) -> pd.DataFrame:
    """Count, loss sum and squared-loss sum of every single and pair slice."""
    parts = []
    for g in groupings:
        n, s, q = _sums(g.codes, g.n_groups, loss)
        parts.append(
            pd.DataFrame(
                {"columns": [(g.column,)] * g.n_groups, "values": [(v,) for v in g.labels]}
            ).assign(n=n, s=s, q=q)
        )
    for a, b in combinations(groupings[:pair_limit], 2):
        size = a.n_groups * b.n_groups
        n, s, q = _sums(a.codes * b.n_groups + b.codes, size, loss)
        idx = np.flatnonzero(n > 0)
        values = [(a.labels[i // b.n_groups], b.labels[i % b.n_groups]) for i in idx]
        parts.append(
            pd.DataFrame({"columns": [(a.column, b.column)] * idx.size, "values": values}).assign(
                n=n[idx], s=s[idx], q=q[idx]
            )
        )
    return pd.concat(parts, ignore_index=True)


def _p_values(table: pd.DataFrame, total_n: int, total_s: float, total_q: float, kind: str) -> Any:
    n, s, q = table["n"].to_numpy(), table["s"].to_numpy(), table["q"].to_numpy()
    m = total_n - n
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_in, mean_out = s / n, (total_s - s) / m
        if kind == "error_rate":
            pooled = total_s / total_n
            se = np.sqrt(pooled * (1 - pooled) * (1 / n + 1 / m))
            p = stats.norm.sf((mean_in - mean_out) / se)
        else:
            var_in = np.maximum(q - n * mean_in**2, 0) / (n - 1)
            var_out = np.maximum((total_q - q) - m * mean_out**2, 0) / (m - 1)
            a, b = var_in / n, var_out / m
            df = (a + b) ** 2 / (a**2 / (n - 1) + b**2 / (m - 1))
            p = stats.t.sf((mean_in - mean_out) / np.sqrt(a + b), df)
    return np.where(np.isfinite(p), p, 1.0)


def worst_slices(
    frame: pd.DataFrame,
    scored: Scored,
    contract: DataContract,
    *,
    ranked_columns: list[str] | None = None,
    min_rows: int = MIN_SLICE_ROWS,
    min_share: float = MIN_SLICE_SHARE,
    pair_columns: int = MAX_PAIR_COLUMNS,
    alpha: float = ALPHA,
) -> dict[str, Any]:
    """Every slice with enough rows, ranked worst first, with its significance.

    ``frame`` holds the evaluated rows aligned with ``scored``. Returns ``{}`` when there is no
    column to slice by. Keys: ``metric`` (``error_rate`` or ``mae``), ``overall``,
    ``min_rows`` (the support actually required), ``alpha``, ``n_tested``, ``n_significant``,
    ``columns`` and ``slices`` (each ``{columns, values, label, count, metric, gap, p_value,
    q_value, significant}``).
    """
    columns = slice_columns(contract, frame, ranked_columns or [])
    if not columns:
        return {}
    loss, kind = _loss(scored)
    specs = {c.name: c for c in contract.columns}
    groupings = [group_rows(frame[c], specs[c], n_bins=5) for c in columns]
    table = _collect(groupings, loss, pair_columns)
    total_n = scored.n_rows
    support = max(min_rows, math.ceil(min_share * total_n))
    table = table[(table["n"] >= support) & (table["n"] < total_n)].reset_index(drop=True)
    overall = float(loss.mean())
    out: dict[str, Any] = {
        "metric": kind,
        "overall": overall,
        "min_rows": support,
        "alpha": alpha,
        "columns": columns,
        "pair_columns": columns[:pair_columns],
        "n_tested": len(table),
        "n_significant": 0,
        "slices": [],
    }
    if table.empty:
        return out
    p = _p_values(table, total_n, float(loss.sum()), float((loss**2).sum()), kind)
    q = stats.false_discovery_control(p, method="bh")
    table = table.assign(metric=table["s"] / table["n"], p=p, q=q)
    table["gap"] = table["metric"] - overall
    table = table.sort_values(["gap", "n"], ascending=[False, False], kind="stable")
    out["n_significant"] = int((table["q"] < alpha).sum())
    out["slices"] = [
        {
            "columns": list(cols),
            "values": list(vals),
            "label": " & ".join(f"{c} = {v}" for c, v in zip(cols, vals, strict=True)),
            "count": int(n),
            "metric": float(metric),
            "gap": float(gap),
            "p_value": float(pv),
            "q_value": float(qv),
            "significant": bool(qv < alpha),
        }
        for cols, vals, n, metric, gap, pv, qv in zip(
            table["columns"],
            table["values"],
            table["n"],
            table["metric"],
            table["gap"],
            table["p"],
            table["q"],
            strict=True,
        )
    ]
    return out
