"""Holdout metrics for binary, multiclass and regression models.

Names are the ones used across loopml (training, registry, gates): ``accuracy``,
``balanced_accuracy``, ``precision``, ``recall``, ``f1``, ``roc_auc``, ``pr_auc``, ``log_loss``,
``brier``, ``mcc``; ``f1_macro``, ``f1_weighted`` and, for multiclass, ``roc_auc`` as the macro
average of one-vs-rest AUCs (the same quantity training optimises); ``rmse``, ``mae``, ``mape``,
``r2``, ``median_absolute_error``. A metric the data cannot define (AUC with one class present,
precision without positive predictions, R² of a constant target, …) is left out, not NaN.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from loopml.evaluate._scored import Scored, score_arrays
from loopml.train._bundle import Task

GREATER_IS_BETTER: dict[str, bool] = {
    "accuracy": True,
    "balanced_accuracy": True,
    "precision": True,
    "recall": True,
    "f1": True,
    "roc_auc": True,
    "pr_auc": True,
    "log_loss": False,
    "brier": False,
    "mcc": True,
    "f1_macro": True,
    "f1_weighted": True,
    "rmse": False,
    "mae": False,
    "mape": False,
    "r2": True,
    "median_absolute_error": False,
}
"""Direction of every metric :func:`compute_metrics` may return."""


def compute_metrics(
    task: Task,
    y_true: Any,
    predictions: pd.DataFrame,
    *,
    classes: Sequence[Any] = (),
    positive_class: Any = None,
) -> dict[str, float]:
    """Metrics of ``predictions`` (``ModelBundle.predict_frame`` output) against ``y_true``.

    ``classes`` are the model's labels in probability-column order (classification);
    ``positive_class`` defaults to the last class for binary tasks. Metrics the data cannot
    define are omitted.

    Raises:
        InvalidInputError: see :func:`loopml.evaluate._scored.score_arrays`.
    """
    scored = score_arrays(task, y_true, predictions, classes=classes, positive_class=positive_class)
    return metrics_of(scored)


def metrics_of(scored: Scored) -> dict[str, float]:
    """:func:`compute_metrics` on already aligned arrays."""
    if scored.task == "binary":
        candidates = _binary(scored)
    elif scored.task == "multiclass":
        candidates = _multiclass(scored)
    else:
        candidates = _regression(scored)
    out: dict[str, float] = {}
    with warnings.catch_warnings():
        # Undefined cases are detected below (NaN / non-finite) and omitted, not warned about.
        warnings.simplefilter("ignore")
        for name, compute in candidates.items():
            value = float(compute())
            if math.isfinite(value):
                out[name] = value
    return out


def _binary(s: Scored) -> dict[str, Callable[[], float]]:
    y = s.is_positive.astype(np.int64)
    pred = (s.pred == s.positive).astype(np.int64)
    score = s.positive_score
    both_classes = len(np.unique(y)) == 2
    nan = float("nan")
    return {
        "accuracy": lambda: skm.accuracy_score(y, pred),
        "balanced_accuracy": lambda: skm.balanced_accuracy_score(y, pred),
        "precision": lambda: skm.precision_score(y, pred, zero_division=np.nan),
        "recall": lambda: skm.recall_score(y, pred, zero_division=np.nan),
        "f1": lambda: skm.f1_score(y, pred, zero_division=np.nan),
        "roc_auc": lambda: skm.roc_auc_score(y, score) if both_classes else nan,
        "pr_auc": lambda: skm.average_precision_score(y, score) if both_classes else nan,
        "log_loss": lambda: skm.log_loss(y, score, labels=[0, 1]),
        "brier": lambda: skm.brier_score_loss(y, score, pos_label=1),
        "mcc": lambda: _mcc(y, pred),
    }


def _mcc(y: np.ndarray, pred: np.ndarray) -> float:
    # scikit-learn returns 0 when a marginal is empty; the coefficient is undefined there.
    if len(np.unique(y)) < 2 or len(np.unique(pred)) < 2:
        return float("nan")
    return float(skm.matthews_corrcoef(y, pred))


def _multiclass(s: Scored) -> dict[str, Callable[[], float]]:
    assert s.proba is not None
    y, pred, proba = s.y, s.pred, s.proba
    labels = list(range(len(s.classes)))
    all_present = len(np.unique(y)) == len(labels)
    return {
        "accuracy": lambda: skm.accuracy_score(y, pred),
        "balanced_accuracy": lambda: skm.balanced_accuracy_score(y, pred),
        "f1_macro": lambda: skm.f1_score(y, pred, average="macro", zero_division=np.nan),
        "f1_weighted": lambda: skm.f1_score(y, pred, average="weighted", zero_division=np.nan),
        "roc_auc": lambda: (
            skm.roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=labels)
            if all_present
            else float("nan")
        ),
        "log_loss": lambda: skm.log_loss(y, proba, labels=labels),
    }


def _regression(s: Scored) -> dict[str, Callable[[], float]]:
    y, pred = s.y, s.pred
    nonzero = y != 0
    return {
        "rmse": lambda: skm.root_mean_squared_error(y, pred),
        "mae": lambda: skm.mean_absolute_error(y, pred),
        # Rows whose actual value is 0 have no percentage error; they are left out.
        "mape": lambda: (
            skm.mean_absolute_percentage_error(y[nonzero], pred[nonzero])
            if nonzero.any()
            else float("nan")
        ),
        "r2": lambda: skm.r2_score(y, pred, force_finite=False) if len(y) > 1 else float("nan"),
        "median_absolute_error": lambda: skm.median_absolute_error(y, pred),
    }
