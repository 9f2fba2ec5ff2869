"""Scoring metrics used to compare candidates in cross-validation.

Classification metrics take encoded labels ``0..k-1`` and the ``(n, k)`` matrix of class
probabilities; label metrics (accuracy, f1, …) derive labels from it (binary: positive-class
probability >= 0.5; multiclass: the most probable class). Regression metrics take the
predictions.

Defaults (:func:`default_metric`): binary ``roc_auc`` of the positive class; multiclass
``roc_auc`` one-vs-rest, macro-averaged — threshold-free like the binary default, and insensitive
to class imbalance; regression ``rmse``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from sklearn import metrics as skm
from sklearn.preprocessing import label_binarize

from loopml.errors import InvalidInputError

TrainTask = Literal["binary", "multiclass", "regression"]
"""The supervised tasks training supports."""
_CLASSIFICATION = frozenset({"binary", "multiclass"})
_REGRESSION = frozenset({"regression"})


@dataclass(frozen=True)
class Metric:
    """A scoring metric.

    Attributes:
        name: registry key.
        greater_is_better: direction of improvement.
        tasks: the tasks it applies to.
        needs_proba: classification metric that reads probabilities rather than labels.
    """

    name: str
    greater_is_better: bool
    tasks: frozenset[str]
    needs_proba: bool
    _fn: Callable[[np.ndarray, np.ndarray, int], float]

    def score(self, y_true: np.ndarray, y_score: np.ndarray, *, positive_index: int = 1) -> float:
        """Score predictions against encoded truth.

        Args:
            y_true: encoded labels (classification) or values (regression), shape ``(n,)``.
            y_score: class probabilities ``(n, k)`` (classification) or predictions ``(n,)``.
            positive_index: column of the positive class (binary only).
        """
        return float(self._fn(np.asarray(y_true), np.asarray(y_score), positive_index))


def _labels(proba: np.ndarray, positive_index: int) -> np.ndarray:
    if proba.shape[1] == 2:
        return np.where(proba[:, positive_index] >= 0.5, positive_index, 1 - positive_index)
    return np.asarray(proba.argmax(axis=1))


def _roc_auc(y: np.ndarray, proba: np.ndarray, pos: int) -> float:
    if proba.shape[1] == 2:
        return float(skm.roc_auc_score(y == pos, proba[:, pos]))
    return float(
        skm.roc_auc_score(
            y, proba, multi_class="ovr", average="macro", labels=range(proba.shape[1])
        )
    )


def _pr_auc(y: np.ndarray, proba: np.ndarray, pos: int) -> float:
    if proba.shape[1] == 2:
        return float(skm.average_precision_score(y == pos, proba[:, pos]))
    onehot = label_binarize(y, classes=list(range(proba.shape[1])))
    return float(skm.average_precision_score(onehot, proba, average="macro"))


def _log_loss(y: np.ndarray, proba: np.ndarray, pos: int) -> float:
    return float(skm.log_loss(y, proba, labels=list(range(proba.shape[1]))))


def _f1(y: np.ndarray, proba: np.ndarray, pos: int) -> float:
    labels = _labels(proba, pos)
    if proba.shape[1] == 2:
        return float(skm.f1_score(y, labels, pos_label=pos, average="binary", zero_division=0))
    return float(skm.f1_score(y, labels, average="macro", zero_division=0))


def _on_labels(fn: Callable[..., float]) -> Callable[[np.ndarray, np.ndarray, int], float]:
    return lambda y, proba, pos: float(fn(y, _labels(proba, pos)))


def _rmse(y: np.ndarray, pred: np.ndarray, pos: int) -> float:
    return float(skm.root_mean_squared_error(y, pred))


def _mae(y: np.ndarray, pred: np.ndarray, pos: int) -> float:
    return float(skm.mean_absolute_error(y, pred))


def _r2(y: np.ndarray, pred: np.ndarray, pos: int) -> float:
    return float(skm.r2_score(y, pred))


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("roc_auc", True, _CLASSIFICATION, True, _roc_auc),
        Metric("pr_auc", True, _CLASSIFICATION, True, _pr_auc),
        Metric("log_loss", False, _CLASSIFICATION, True, _log_loss),
        Metric("accuracy", True, _CLASSIFICATION, False, _on_labels(skm.accuracy_score)),
        Metric(
            "balanced_accuracy",
            True,
            _CLASSIFICATION,
            False,
            _on_labels(skm.balanced_accuracy_score),
        ),
        Metric("f1", True, _CLASSIFICATION, False, _f1),
        Metric("rmse", False, _REGRESSION, False, _rmse),
        Metric("mae", False, _REGRESSION, False, _mae),
        Metric("r2", True, _REGRESSION, False, _r2),
    )
}
"""Every metric by name."""

_DEFAULTS = {"binary": "roc_auc", "multiclass": "roc_auc", "regression": "rmse"}


def metrics_for(task: str) -> list[str]:
    """Names of the metrics that apply to ``task``."""
    return [name for name, m in METRICS.items() if task in m.tasks]


def default_metric(task: str) -> str:
    """The metric candidates are compared on when none is given (see the module docstring).

    Raises:
        InvalidInputError: ``task`` is not binary, multiclass or regression.
    """
    if task not in _DEFAULTS:
        raise InvalidInputError(
            f"Training does not support the task {task!r}.",
            hint=f"Use one of: {', '.join(_DEFAULTS)}.",
        )
    return _DEFAULTS[task]


def get_metric(name: str | None, task: str) -> Metric:
    """The metric ``name`` (or the task's default when ``None``), checked against ``task``.

    Raises:
        InvalidInputError: the metric is unknown or does not apply to ``task``; the message
            lists the valid ones.
    """
    chosen = default_metric(task) if name is None else name
    metric = METRICS.get(chosen)
    if metric is None or task not in metric.tasks:
        problem = "is not a known metric" if metric is None else f"does not apply to {task} tasks"
        raise InvalidInputError(
            f"The metric {chosen!r} {problem}.",
            hint=f"Valid metrics for {task}: {', '.join(metrics_for(task))}.",
        )
    return metric
