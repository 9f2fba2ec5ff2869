"""Group fairness of a model's decisions, computed with Fairlearn.

For each sensitive attribute of the data contract, and each pair of them (their intersection),
the rows are grouped (numbers in quantile bins, see :mod:`loopml.evaluate._groups`) and
Fairlearn's :class:`~fairlearn.metrics.MetricFrame` gives per-group metrics:

- classification: selection rate, true and false positive rates, precision (binary: of the
  positive class; multiclass: one class against the rest, worst class reported) and accuracy;
- regression: mean absolute error, RMSE, mean error (bias) and mean prediction (grouped
  with pandas: Fairlearn's parity measures are defined for decisions only).

Summaries use only groups with at least ``min_group_rows`` rows, because a rate measured on a
handful of rows says nothing: demographic-parity difference and ratio, equalized-odds
difference, and the disparate-impact ratio with the four-fifths rule (the lowest selection rate
must be at least 80 % of the highest).
"""

from __future__ import annotations

import warnings
from itertools import combinations, product
from typing import Any

import numpy as np
import pandas as pd
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn import metrics as skm

from loopml.data import DataContract
from loopml.evaluate._groups import Grouping, group_rows
from loopml.evaluate._scored import Scored

MIN_GROUP_ROWS = 30
FOUR_FIFTHS = 0.8
INTERSECTION = " & "


def _precision(y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray) -> float:
    return float(
        skm.precision_score(y_true, y_pred, sample_weight=sample_weight, zero_division=np.nan)
    )


def _accuracy(y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray) -> float:
    return float(skm.accuracy_score(y_true, y_pred, sample_weight=sample_weight))


def _rows(y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray) -> float:
    return float(np.sum(sample_weight))


def _cells(y: np.ndarray, pred: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, ...]:
    """One row per distinct (group, label, decision) with its count as weight.

    Every metric here is a weighted count, so the results are exactly those on the rows, while
    Fairlearn (which applies metrics row-object by row-object) works on a handful of cells.
    """
    cells = (
        pd.DataFrame({"g": groups, "y": y, "p": pred}).groupby(["g", "y", "p"]).size().reset_index()
    )
    return (
        cells["y"].to_numpy(),
        cells["p"].to_numpy(),
        cells["g"].to_numpy(dtype=object),
        cells[0].to_numpy(dtype=float),
    )


def _binary_frame(y: np.ndarray, pred: np.ndarray, groups: np.ndarray) -> pd.DataFrame:
    y_c, p_c, g_c, w = _cells(y, pred, groups)
    weights = {"sample_weight": w}
    names = ("count", "selection_rate", "tpr", "fpr", "precision", "accuracy")
    functions = (
        _rows,
        selection_rate,
        true_positive_rate,
        false_positive_rate,
        _precision,
        _accuracy,
    )
    frame = MetricFrame(
        metrics=dict(zip(names, functions, strict=True)),
        y_true=y_c,
        y_pred=p_c,
        sensitive_features=pd.Series(g_c, name="group"),
        sample_params={name: weights for name in names},
    )
    return frame.by_group


def _summary(y: np.ndarray, pred: np.ndarray, groups: np.ndarray) -> dict[str, float]:
    y_c, p_c, g_c, w = _cells(y, pred, groups)
    kwargs = {"sensitive_features": g_c, "sample_weight": w}
    dp_ratio = float(demographic_parity_ratio(y_c, p_c, **kwargs))
    return {
        "demographic_parity_difference": float(demographic_parity_difference(y_c, p_c, **kwargs)),
        "demographic_parity_ratio": dp_ratio,
        "equalized_odds_difference": float(equalized_odds_difference(y_c, p_c, **kwargs)),
        "disparate_impact_ratio": dp_ratio,
    }


def _worst(summaries: list[dict[str, float]]) -> dict[str, float]:
    """Across one-vs-rest problems: the largest differences and the smallest ratios."""
    out: dict[str, float] = {}
    for key in summaries[0]:
        values = [s[key] for s in summaries if np.isfinite(s[key])]
        if values:
            out[key] = min(values) if key.endswith("ratio") else max(values)
    return out


def _classification(
    scored: Scored, names: np.ndarray, large: np.ndarray
) -> tuple[pd.DataFrame, dict[str, float]]:
    if scored.task == "binary":
        y, pred = scored.is_positive.astype(int), (scored.pred == scored.positive).astype(int)
        per_group = _binary_frame(y, pred, names)
        summary = _summary(y[large], pred[large], names[large]) if _two(names[large]) else {}
        return per_group, summary
    k = len(scored.classes)
    frames, summaries = [], []
    for j in range(k):
        y, pred = (scored.y == j).astype(int), (scored.pred == j).astype(int)
        frames.append(_binary_frame(y, pred, names))
        if _two(names[large]):
            summaries.append(_summary(y[large], pred[large], names[large]))
    # Per group, the worst class: lowest TPR/precision, highest FPR; accuracy is overall.
    y_c, p_c, g_c, w = _cells(scored.y, scored.pred, names)
    accuracy = MetricFrame(
        metrics=_accuracy,
        y_true=y_c,
        y_pred=p_c,
        sensitive_features=pd.Series(g_c, name="group"),
        sample_params={"sample_weight": w},
    ).by_group
    per_group = pd.DataFrame(
        {
            "count": frames[0]["count"],
            "selection_rate": pd.concat([f["selection_rate"] for f in frames], axis=1).max(axis=1),
            "tpr": pd.concat([f["tpr"] for f in frames], axis=1).min(axis=1),
            "fpr": pd.concat([f["fpr"] for f in frames], axis=1).max(axis=1),
            "precision": pd.concat([f["precision"] for f in frames], axis=1).min(axis=1),
            "accuracy": accuracy,
        }
    )
    return per_group, _worst(summaries) if summaries else {}


def _regression(scored: Scored, names: np.ndarray) -> tuple[pd.DataFrame, dict[str, float]]:
    # Per-row errors do not compress into a few cells; pandas' grouped means are vectorised.
    error = scored.pred - scored.y
    rows = pd.DataFrame(
        {"abs": np.abs(error), "sq": error**2, "err": error, "pred": scored.pred},
        index=pd.Index(names, name="group"),
    )
    grouped = rows.groupby(level="group").agg(["mean", "size"])
    per_group = pd.DataFrame(
        {
            "count": grouped[("abs", "size")],
            "mae": grouped[("abs", "mean")],
            "rmse": np.sqrt(grouped[("sq", "mean")]),
            "mean_error": grouped[("err", "mean")],
            "mean_prediction": grouped[("pred", "mean")],
        }
    )
    return per_group, {}


def _two(names: np.ndarray) -> bool:
    return np.unique(names).size >= 2


def _names(groupings: list[Grouping]) -> np.ndarray:
    if len(groupings) == 1:
        return groupings[0].names()
    parts = [g.names().astype(str) for g in groupings]
    return np.asarray([INTERSECTION.join(t) for t in zip(*parts, strict=True)], dtype=object)


def _attribute(scored: Scored, groupings: list[Grouping], min_rows: int) -> dict[str, Any]:
    names = _names(groupings)
    sizes = pd.Series(names).value_counts()
    large = pd.Series(names).map(sizes).to_numpy() >= min_rows
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rates undefined in a group are reported as null
        if scored.task == "regression":
            per_group, summary = _regression(scored, names)
        else:
            per_group, summary = _classification(scored, names, large)
    # Fairlearn sorts groups as text; show them in the grouping's order (bins ascending).
    order = [INTERSECTION.join(p) for p in product(*(g.labels for g in groupings))]
    per_group = per_group.reindex([label for label in order if label in per_group.index])
    groups = []
    for label, row in per_group.iterrows():
        entry: dict[str, Any] = {"group": str(label)}
        entry.update({str(k): _finite(v) for k, v in row.items()})
        entry["count"] = int(row["count"])
        entry["small"] = entry["count"] < min_rows
        groups.append(entry)
    out: dict[str, Any] = {
        "name": INTERSECTION.join(g.column for g in groupings),
        "columns": [g.column for g in groupings],
        "binned": [g.column for g in groupings if g.binned],
        "groups": groups,
        "n_small_groups": sum(g["small"] for g in groups),
    }
    out.update({k: _finite(v) for k, v in summary.items()})
    if out.get("disparate_impact_ratio") is not None:
        out["four_fifths_rule"] = bool(out["disparate_impact_ratio"] >= FOUR_FIFTHS)
        rates = {g["group"]: g["selection_rate"] for g in groups if not g["small"]}
        valid = {k: v for k, v in rates.items() if v is not None}
        if valid:
            out["lowest_selection_group"] = min(valid, key=lambda k: valid[k])
            out["highest_selection_group"] = max(valid, key=lambda k: valid[k])
    return out


def _finite(value: Any) -> float | None:
    number = float(value)
    return number if np.isfinite(number) else None


def fairness_summary(
    frame: pd.DataFrame,
    scored: Scored,
    contract: DataContract,
    *,
    min_group_rows: int = MIN_GROUP_ROWS,
    intersections: bool = True,
) -> dict[str, Any]:
    """Per-group metrics and fairness summaries for each sensitive attribute in ``frame``.

    ``frame`` holds the evaluated rows, aligned with ``scored``. Sensitive columns of the
    contract that the frame lacks are listed under ``missing_columns``. Returns ``{}`` when the
    contract marks no sensitive column. Keys: ``min_group_rows``, ``attributes`` (single
    attributes first, then pairwise intersections), ``missing_columns``.
    """
    specs = contract.sensitive_columns
    if not specs:
        return {}
    present = [s for s in specs if s.name in frame.columns]
    groupings = [group_rows(frame[s.name], s) for s in present]
    combos: list[list[Grouping]] = [[g] for g in groupings]
    if intersections:
        combos += [list(pair) for pair in combinations(groupings, 2)]
    return {
        "min_group_rows": min_group_rows,
        "four_fifths_threshold": FOUR_FIFTHS,
        "attributes": [_attribute(scored, combo, min_group_rows) for combo in combos],
        "missing_columns": [s.name for s in specs if s.name not in frame.columns],
    }
