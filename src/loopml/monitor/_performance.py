"""Model performance in production: realized (from feedback) and estimated (without labels).

*Realized* performance joins the prediction log with the ground truth that arrived later
(by request id) and computes the usual holdout metrics on the labelled part of the window.

*Estimated* performance is confidence-based performance estimation (CBPE, as published by
NannyML): calibrate the model's probabilities on labelled reference data (the holdout), then,
for a window without labels, take each calibrated probability as the expected value of the
unknown label. The expected confusion matrix gives accuracy, precision, recall and F1; the
expected true- and false-positive rates along the score ranking give ROC AUC. The estimate is
right as long as the relation between features and label (concept) does not change — it
detects the performance impact of covariate shift, not of concept drift.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from loopml.errors import InvalidInputError
from loopml.evaluate import compute_metrics
from loopml.evaluate._scored import encode_labels
from loopml.store import Feedback, PredictionRecord
from loopml.train._bundle import Task, probability_column

Calibration = Literal["auto", "isotonic", "platt"]
ISOTONIC_MIN_ROWS = 500
"""Below this many labelled reference rows ``auto`` calibrates with Platt scaling (2 params)."""
_EPS = 1e-6


def join_feedback(
    records: Sequence[PredictionRecord], feedback: Mapping[str, Feedback]
) -> tuple[pd.DataFrame, list[Any]]:
    """The outputs of the records that have ground truth, and their labels, in log order."""
    labelled = [r for r in records if r.request_id in feedback]
    outputs = pd.DataFrame.from_records([r.outputs for r in labelled])
    return outputs, [feedback[r.request_id].label for r in labelled]


def realized_performance(
    task: Task,
    labels: Sequence[Any],
    outputs: pd.DataFrame,
    *,
    classes: Sequence[Any] = (),
    positive_class: Any = None,
) -> dict[str, float]:
    """Metrics of logged ``outputs`` against the ``labels`` that arrived for them.

    Raises:
        InvalidInputError: no labelled rows, or labels the model does not know.
    """
    return compute_metrics(
        task, list(labels), outputs, classes=classes, positive_class=positive_class
    )


def _logit(p: np.ndarray) -> np.ndarray:
    clipped = np.clip(p, _EPS, 1 - _EPS)
    return np.log(clipped / (1 - clipped)).reshape(-1, 1)


@dataclass(eq=False)
class CBPE:
    """Confidence-based performance estimation for a classifier.

    ``fit`` calibrates each class's probability one-vs-rest on labelled reference data
    (isotonic regression, or Platt scaling for small references; ``auto`` picks by size);
    ``estimate`` returns the expected metrics of a window from its probabilities alone.

    Attributes (after ``fit``): ``classes_``, ``positive_`` (binary), ``calibrators_``,
    ``method_``, ``reference_metrics_`` (the realized metrics on the reference, to compare).
    """

    task: Literal["binary", "multiclass"] = "binary"
    calibration: Calibration = "auto"
    classes_: list[Any] = field(default_factory=list, init=False)
    positive_: int = field(default=1, init=False)
    method_: str = field(default="", init=False)
    calibrators_: list[Any] = field(default_factory=list, init=False)
    reference_metrics_: dict[str, float] = field(default_factory=dict, init=False)

    def fit(
        self,
        labels: Sequence[Any],
        proba: np.ndarray,
        classes: Sequence[Any],
        *,
        positive_class: Any = None,
    ) -> CBPE:
        """Calibrate on reference ``labels`` and the model's ``proba`` (one column per class).

        Raises:
            InvalidInputError: shapes disagree, a class is absent from the reference, or the
                labels hold unknown classes.
        """
        proba = np.asarray(proba, dtype=np.float64)
        if proba.ndim != 2 or proba.shape[1] != len(classes) or proba.shape[0] != len(labels):
            raise InvalidInputError(
                f"CBPE needs one probability column per class ({len(classes)}) and one row per "
                f"label ({len(labels)}); got shape {proba.shape}.",
                hint="Pass ModelBundle.predict_proba of the labelled reference rows.",
            )
        y = encode_labels(labels, classes, "reference labels")
        if len(np.unique(y)) < len(classes):
            raise InvalidInputError(
                "CBPE needs every class in the labelled reference data.",
                hint="Use a larger reference (the model's holdout).",
            )
        self.classes_ = list(classes)
        self.positive_ = (
            self.classes_.index(positive_class) if positive_class is not None else len(classes) - 1
        )
        method = self.calibration
        if method == "auto":
            method = "isotonic" if len(y) >= ISOTONIC_MIN_ROWS else "platt"
        self.method_ = method
        columns = [self.positive_] if self.task == "binary" else range(len(classes))
        self.calibrators_ = [self._calibrator(proba[:, k], y == k) for k in columns]
        frame = pd.DataFrame(proba, columns=[probability_column(c) for c in classes])
        frame["prediction"] = np.asarray(self.classes_, dtype=object)[self._decide(proba)]
        self.reference_metrics_ = realized_performance(
            self.task, labels, frame, classes=classes, positive_class=positive_class
        )
        return self

    def _calibrator(self, score: np.ndarray, truth: np.ndarray) -> Any:
        if self.method_ == "isotonic":
            return IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(score, truth)
        return LogisticRegression(C=1e6).fit(_logit(score), truth.astype(int))

    def calibrated(self, proba: np.ndarray) -> np.ndarray:
        """Calibrated probabilities, same shape as ``proba`` (rows sum to 1)."""
        self._check_fitted(proba)
        out = np.empty_like(proba, dtype=np.float64)
        for k, calibrator in enumerate(self.calibrators_):
            column = self.positive_ if self.task == "binary" else k
            score = proba[:, column]
            if self.method_ == "isotonic":
                out[:, column] = calibrator.predict(score)
            else:
                out[:, column] = calibrator.predict_proba(_logit(score))[:, 1]
        if self.task == "binary":
            out[:, 1 - self.positive_] = 1 - out[:, self.positive_]
            return out
        total = out.sum(axis=1, keepdims=True)
        return np.divide(out, total, out=np.full_like(out, 1 / out.shape[1]), where=total > 0)

    def _decide(self, proba: np.ndarray) -> np.ndarray:
        if self.task == "binary":
            positive = proba[:, self.positive_] >= 0.5
            return np.where(positive, self.positive_, 1 - self.positive_)
        return np.argmax(proba, axis=1)

    def estimate(
        self, proba: np.ndarray, predicted: Sequence[Any] | None = None
    ) -> dict[str, float]:
        """Expected metrics of a window from the model's probabilities (no labels).

        ``predicted`` are the labels the model decided (default: threshold 0.5 / arg-max).
        Binary: ``accuracy``, ``precision``, ``recall``, ``f1``, ``roc_auc``; multiclass:
        ``accuracy``, ``roc_auc`` (macro). Undefined metrics are left out.

        Raises:
            InvalidInputError: not fitted, or ``proba`` has the wrong number of columns.
        """
        proba = np.asarray(proba, dtype=np.float64)
        calibrated = self.calibrated(proba)
        if predicted is None:
            decided = self._decide(proba)
        else:
            decided = encode_labels(list(predicted), self.classes_, "predicted labels")
        if self.task == "binary":
            return _binary_estimate(
                calibrated[:, self.positive_], proba[:, self.positive_], decided == self.positive_
            )
        expected_correct = calibrated[np.arange(len(decided)), decided]
        out = {"accuracy": float(expected_correct.mean())}
        aucs = [_expected_auc(calibrated[:, k], proba[:, k]) for k in range(proba.shape[1])]
        if all(np.isfinite(aucs)):
            out["roc_auc"] = float(np.mean(aucs))
        return out

    def _check_fitted(self, proba: np.ndarray) -> None:
        if not self.calibrators_:
            raise InvalidInputError("This CBPE is not fitted.", hint="Call fit(...) first.")
        if proba.ndim != 2 or proba.shape[1] != len(self.classes_) or proba.shape[0] == 0:
            raise InvalidInputError(
                f"Expected a non-empty probability matrix with {len(self.classes_)} columns; "
                f"got shape {proba.shape}.",
                hint="Pass the model's probabilities for the window, one column per class.",
            )


def _binary_estimate(p: np.ndarray, score: np.ndarray, positive: np.ndarray) -> dict[str, float]:
    """Expected confusion matrix: a row predicted positive is a true positive with chance p."""
    tp = float(p[positive].sum())
    fp = float((1 - p[positive]).sum())
    fn = float(p[~positive].sum())
    tn = float((1 - p[~positive]).sum())
    out = {"accuracy": (tp + tn) / p.size}
    if tp + fp > 0:
        out["precision"] = tp / (tp + fp)
    if tp + fn > 0:
        out["recall"] = tp / (tp + fn)
    if "precision" in out and "recall" in out and tp > 0:
        out["f1"] = 2 * tp / (2 * tp + fp + fn)
    auc = _expected_auc(p, score)
    if np.isfinite(auc):
        out["roc_auc"] = auc
    return out


def _expected_auc(p: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC with each row counted p positive and 1 - p negative, ranked by ``score``.

    Tied scores form one step of the curve (as in scikit-learn's ``roc_curve``).
    """
    order = np.argsort(-score, kind="stable")
    p, score = p[order], score[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(score)), score.size - 1]
    tps = np.r_[0.0, np.cumsum(p)[last_of_tie]]
    fps = np.r_[0.0, np.cumsum(1 - p)[last_of_tie]]
    if tps[-1] <= 0 or fps[-1] <= 0:
        return float("nan")
    return float(np.trapezoid(tps / tps[-1], fps / fps[-1]))


def performance_section(
    realized: Mapping[str, float] | None,
    estimated: Mapping[str, float] | None,
    *,
    n_labelled: int = 0,
    n_window: int = 0,
    reference: Mapping[str, float] | None = None,
    method: str | None = None,
) -> dict[str, Any]:
    """The ``performance`` section of a monitor report."""
    return {
        "realized": dict(realized) if realized is not None else None,
        "estimated": dict(estimated) if estimated is not None else None,
        "reference": dict(reference) if reference is not None else None,
        "labelled_rows": n_labelled,
        "window_rows": n_window,
        "calibration": method,
    }
