"""Leakage and target checks: features that give the answer away, and targets hard to learn.

* **leakage** — a feature that alone predicts the target almost perfectly: single-feature ROC AUC
  (binary target; a category is scored by its positive rate), correlation ratio η² (number
  feature, multiclass target; category feature, number target), share of rows its categories'
  majority class gets right (category feature, multiclass target), or Pearson r² (number feature
  and target) of at least ``LEAKAGE_POWER``;
* **id-like** — a feature that is (nearly) unique per row, so a model can only memorise it;
* **future time** — a datetime feature later than the time column (the prediction time) in more
  than ``FUTURE_SHARE`` of rows;
* **target** — missing target values, class imbalance (a class under ``IMBALANCE_SHARE`` of rows)
  and tiny classes (fewer than ``MIN_CLASS_ROWS`` rows).

Each finding is a :class:`DataWarning` with one sentence saying what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from loopml.data._contract import DataContract
from loopml.data._infer import infer_task, parse_datetimes
from loopml.errors import DataError

LEAKAGE_POWER = 0.98
FUTURE_SHARE = 0.01
IMBALANCE_SHARE = 0.10
MIN_CLASS_ROWS = 10
ID_DISTINCT_SHARE = 0.99
MIN_ID_ROWS = 20


@dataclass(frozen=True)
class DataWarning:
    """One finding about the data: its ``kind``, the ``column`` (if any) and one sentence."""

    kind: str
    column: str | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "column": self.column, "message": self.message}


def target_task(target: pd.Series) -> str | None:
    """``binary``, ``multiclass`` or ``regression`` for ``target``; None when it cannot be
    learned (no values, a single value, dates)."""
    try:
        return infer_task(target)
    except DataError:
        return None


def _is_number(series: pd.Series) -> bool:
    dtype = series.dtype
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def feature_power(
    feature: pd.Series, target: pd.Series, task: str, *, ranks: np.ndarray | None = None
) -> tuple[str, float] | None:
    """How well ``feature`` alone predicts ``target``: ``(measure, value)`` with a value in
    [0, 1] (1 = perfectly), or None when it cannot be measured (too few rows, too many
    categories). ``ranks`` may pass the feature's average ranks over its present rows when the
    target has no missing values there (saves a sort)."""
    both = (feature.notna() & target.notna()).to_numpy()
    n = int(both.sum())
    if n < 2:
        return None
    y = target.to_numpy()[both]
    if _is_number(feature):
        x = feature.to_numpy(dtype="float64", na_value=np.nan)[both]
        if task == "binary":
            if ranks is None or len(ranks) != n:
                from scipy.stats import rankdata  # deferred: scipy.stats is slow to import

                ranks = rankdata(x)
            positive = y == pd.unique(y)[0]
            n_pos = int(positive.sum())
            n_neg = n - n_pos
            if n_pos == 0 or n_neg == 0:
                return None
            auc = (float(ranks[positive].sum(dtype="float64")) - n_pos * (n_pos + 1) / 2) / (
                n_pos * n_neg
            )
            return "auc", max(auc, 1.0 - auc)
        if task == "multiclass":
            return "eta2", _eta_squared(pd.factorize(y)[0], x)
        y_num = np.asarray(y, dtype="float64")
        r = np.corrcoef(x, y_num)[0, 1] if x.std() > 0 and y_num.std() > 0 else 0.0
        return "r2", float(r * r)
    codes, levels = pd.factorize(feature.to_numpy()[both])
    if len(levels) > max(2, n // 20):
        return None
    if task == "regression":
        return "eta2", _eta_squared(codes, np.asarray(y, dtype="float64"))
    y_codes, classes = pd.factorize(y)
    table = np.bincount(codes * len(classes) + y_codes, minlength=len(levels) * len(classes))
    table = table.reshape(len(levels), len(classes))
    if task == "binary":
        return "auc", _grouped_auc(table)
    base = table.sum(axis=0).max() / n
    purity = table.max(axis=1).sum() / n
    return "purity", float(purity) if base < 0.9 else 0.0


def _eta_squared(groups: np.ndarray, values: np.ndarray) -> float:
    """Correlation ratio: the share of the variance of ``values`` explained by ``groups``."""
    total = float(((values - values.mean()) ** 2).sum())
    if total == 0:
        return 0.0
    counts = np.bincount(groups)
    sums = np.bincount(groups, weights=values)
    nonempty = counts > 0
    between = float(
        (sums[nonempty] ** 2 / counts[nonempty]).sum() - values.sum() ** 2 / len(values)
    )
    return min(1.0, max(0.0, between / total))


def _grouped_auc(table: np.ndarray) -> float:
    """AUC of scoring each row by its category's share of the first class (ties count half)."""
    positives, negatives = table[:, 0].astype(float), table[:, 1].astype(float)
    n_pos, n_neg = positives.sum(), negatives.sum()
    if n_pos == 0 or n_neg == 0:
        return 0.5
    rate = positives / np.maximum(positives + negatives, 1)
    order = np.argsort(rate, kind="stable")
    rate, positives, negatives = rate[order], positives[order], negatives[order]
    auc = 0.0
    below = 0.0
    for value in np.unique(rate):
        group = rate == value
        pos, neg = positives[group].sum(), negatives[group].sum()
        auc += pos * (below + neg / 2)
        below += neg
    auc /= n_pos * n_neg
    return float(max(auc, 1.0 - auc))


def leakage_warning(column: str, target: str, measure: str, value: float) -> DataWarning | None:
    """A warning when ``value`` of ``measure`` reaches ``LEAKAGE_POWER``."""
    if value < LEAKAGE_POWER:
        return None
    names = {"auc": "ROC AUC", "eta2": "η²", "r2": "R²", "purity": "accuracy"}
    return DataWarning(
        "leakage",
        column,
        f"{column!r} alone predicts {target!r} almost perfectly ({names[measure]} "
        f"{value:.3f}): check it is known at prediction time, else set its role to ignore.",
    )


def looks_like_id(distinct: int, count: int, n_rows: int, is_float: bool) -> bool:
    """Whether a column of ``distinct`` values over ``count`` present rows is an identifier."""
    return (
        not is_float
        and n_rows >= MIN_ID_ROWS
        and count >= 0.99 * n_rows
        and distinct >= ID_DISTINCT_SHARE * count
    )


def id_warning(column: str) -> DataWarning:
    return DataWarning(
        "id_like",
        column,
        f"{column!r} is unique per row like an identifier; set its role to id or ignore so the "
        "model cannot memorise it.",
    )


def future_share(feature: pd.Series, time: pd.Series) -> float:
    """Share of rows (with both values) where the datetime ``feature`` is after ``time``."""
    a, b = _as_datetimes(feature), _as_datetimes(time)
    both = a.notna() & b.notna()
    if not both.any():
        return 0.0
    return float((a[both] > b[both]).mean())


def _as_datetimes(series: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        if getattr(series.dt, "tz", None) is None:
            return series.dt.tz_localize("UTC")
        return series.dt.tz_convert("UTC")
    return parse_datetimes(series)


def future_warning(column: str, time_column: str, share: float) -> DataWarning | None:
    if share <= FUTURE_SHARE:
        return None
    return DataWarning(
        "future_time",
        column,
        f"{column!r} is later than the time column {time_column!r} in {share:.1%} of rows, so it "
        "is not known at prediction time; drop it or set its role to ignore.",
    )


def target_warnings(target: pd.Series, task: str | None) -> list[DataWarning]:
    """Missing target values, class imbalance and tiny classes."""
    name = str(target.name)
    found: list[DataWarning] = []
    missing = int(target.isna().sum())
    if missing:
        found.append(
            DataWarning(
                "target_missing",
                name,
                f"The target {name!r} is missing in {missing} rows; they cannot be used for "
                "training or evaluation.",
            )
        )
    if task not in ("binary", "multiclass"):
        return found
    counts = target.value_counts(dropna=True)
    total = int(counts.sum())
    for label, count in counts.items():
        if count < MIN_CLASS_ROWS:
            found.append(
                DataWarning(
                    "tiny_class",
                    name,
                    f"Class {label!r} of {name!r} has only {count} rows, too few to learn or "
                    "evaluate; collect more or merge it with another class.",
                )
            )
        elif count / total < IMBALANCE_SHARE:
            found.append(
                DataWarning(
                    "imbalance",
                    name,
                    f"Class {label!r} of {name!r} is only {count / total:.1%} of rows "
                    "(imbalanced); judge models by a metric such as ROC AUC or F1, not accuracy.",
                )
            )
    return found


def check_leakage(frame: pd.DataFrame, contract: DataContract) -> list[DataWarning]:
    """Leakage, id-like, future-time and target warnings for ``frame`` under ``contract``.

    Empty when the contract has no target or the frame lacks it (e.g. a batch to score).
    """
    target = contract.target
    if target is None or target not in frame.columns:
        return []
    task = target_task(frame[target])
    found = target_warnings(frame[target], task)
    time_spec = contract.time_column
    for spec in contract.feature_columns:
        if spec.name not in frame.columns:
            continue
        series = frame[spec.name]
        if spec.dtype == "datetime":
            if time_spec is not None and time_spec.name in frame.columns:
                share = future_share(series, frame[time_spec.name])
                warning = future_warning(spec.name, time_spec.name, share)
                if warning is not None:
                    found.append(warning)
            continue
        values = series.dropna()
        if looks_like_id(values.nunique(), len(values), len(series), spec.dtype == "float"):
            found.append(id_warning(spec.name))
            continue
        if task is None:
            continue
        power = feature_power(series, frame[target], task)
        if power is not None:
            warning = leakage_warning(spec.name, target, *power)
            if warning is not None:
                found.append(warning)
    return found
