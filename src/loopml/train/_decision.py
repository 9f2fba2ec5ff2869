"""Binary decisions: the decision threshold and probability calibration, from out-of-fold scores.

Both are chosen on out-of-fold predictions of cross-validation, so neither peeks at rows the
model was fitted on. Calibration follows ``CalibratedClassifierCV(ensemble=False)``: a sigmoid
(Platt) or isotonic map fitted on out-of-fold probabilities, applied to the model refitted on all
rows; the out-of-fold predictions are reused instead of refitting the model once per fold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, precision_recall_curve, roc_curve
from sklearn.model_selection import StratifiedKFold

from loopml.errors import InvalidInputError

ThresholdStrategy = Literal["fixed", "f1", "max_f1", "youden", "cost", "auto"]
CalibrationMethod = Literal["sigmoid", "isotonic"]
THRESHOLD_STRATEGIES: tuple[str, ...] = ("fixed", "f1", "max_f1", "youden", "cost", "auto")
IMBALANCED_SHARE = 0.2
"""``auto`` thresholds maximise F1 when the positive class is rarer than this share."""
CALIBRATION_GAIN = 1e-3
"""Calibration is kept only when it lowers cross-validated log loss by at least this much."""
_EPS = 1e-6


@dataclass(frozen=True)
class Costs:
    """The business cost of a false positive and of a false negative (any common unit)."""

    false_positive: float = 1.0
    false_negative: float = 1.0

    def __post_init__(self) -> None:
        if not (self.false_positive >= 0 and self.false_negative >= 0) or not (
            self.false_positive + self.false_negative > 0
        ):
            raise InvalidInputError(
                "Costs must be non-negative and not both zero; got "
                f"false_positive={self.false_positive}, false_negative={self.false_negative}.",
                hint="Give the cost of a false positive and of a false negative.",
            )


def choose_threshold(
    strategy: ThresholdStrategy, truth: np.ndarray, score: np.ndarray, costs: Costs | None
) -> tuple[float, str]:
    """The decision threshold on the positive-class probability and the strategy used.

    ``fixed``: 0.5. ``f1`` (alias ``max_f1``): the threshold maximising F1. ``youden``: the one
    maximising TPR - FPR. ``cost``: the one minimising ``costs.false_positive * FP +
    costs.false_negative * FN``. ``auto``: ``cost`` when costs are given, else ``f1`` when the
    positive class is rarer than :data:`IMBALANCED_SHARE`, else ``fixed``. A row is predicted
    positive when its probability is ``>=`` the threshold.

    Raises:
        InvalidInputError: an unknown strategy, or ``cost`` without costs.
    """
    if strategy not in THRESHOLD_STRATEGIES:
        raise InvalidInputError(
            f"Unknown threshold strategy {strategy!r}.",
            hint=f"Choose one of: {', '.join(THRESHOLD_STRATEGIES)}.",
        )
    truth = np.asarray(truth, dtype=bool)
    if strategy == "auto":
        if costs is not None:
            strategy = "cost"
        else:
            strategy = "f1" if truth.mean() < IMBALANCED_SHARE else "fixed"
    if strategy == "cost" and costs is None:
        raise InvalidInputError(
            "The 'cost' threshold needs the costs of a false positive and a false negative.",
            hint="Set training.costs in the charter (false_positive, false_negative).",
        )
    if strategy == "fixed" or truth.all() or not truth.any():
        return 0.5, strategy
    if strategy in ("f1", "max_f1"):
        precision, recall, thresholds = precision_recall_curve(truth, score)
        with np.errstate(invalid="ignore", divide="ignore"):
            f1 = np.nan_to_num(2 * precision * recall / (precision + recall))
        return float(thresholds[int(np.argmax(f1[:-1]))]), strategy
    fpr, tpr, thresholds = roc_curve(truth, score, drop_intermediate=False)
    if strategy == "youden":
        best = int(np.argmax(tpr - fpr))
    else:
        assert costs is not None
        positives, negatives = truth.sum(), (~truth).sum()
        cost = costs.false_positive * fpr * negatives + costs.false_negative * (1 - tpr) * positives
        best = int(np.argmin(cost))
    # roc_curve's first threshold is +inf (nothing positive): just above the top probability.
    return float(min(thresholds[best], np.nextafter(1.0, 2.0))), strategy


class ProbabilityCalibrator:
    """A monotone map from raw to calibrated positive-class probabilities."""

    def __init__(self, method: CalibrationMethod) -> None:
        self.method = method

    def fit(self, score: np.ndarray, truth: np.ndarray) -> ProbabilityCalibrator:
        if self.method == "isotonic":
            self.map_: Any = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
            self.map_.fit(score, truth)
        else:
            self.map_ = LogisticRegression(C=1e6).fit(_logit(score)[:, None], truth)
        return self

    def transform(self, score: np.ndarray) -> np.ndarray:
        # The fitted map's own arithmetic without scikit-learn's per-call checks (0.1-0.3 ms,
        # paid by every served request): interpolation between the isotonic thresholds, or the
        # logistic of the Platt map's decision.
        score = np.asarray(score, dtype=float)
        fitted = self.map_
        if self.method == "isotonic":
            clipped = np.clip(score, fitted.X_min_, fitted.X_max_)
            mapped = np.interp(clipped, fitted.X_thresholds_, fitted.y_thresholds_)
            return np.clip(mapped, 0.0, 1.0)
        decision = _logit(score)[:, None] @ fitted.coef_.T + fitted.intercept_
        return np.asarray(expit(decision.reshape(-1)))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


class CalibratedModel(ClassifierMixin, BaseEstimator):
    """A fitted binary classifier whose positive-class probability goes through a calibrator."""

    def __init__(self, model: Any, calibrator: ProbabilityCalibrator, positive_index: int) -> None:
        self.model = model
        self.calibrator = calibrator
        self.positive_index = positive_index

    @property
    def classes_(self) -> np.ndarray:
        return np.asarray(self.model.classes_)

    def fit(self, X: Any, y: Any) -> CalibratedModel:
        """Refit the underlying model on ``X``, ``y``; the calibration map is kept."""
        self.model = clone(self.model).fit(X, y)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        raw = np.asarray(self.model.predict_proba(X), dtype=float)[:, self.positive_index]
        calibrated = self.calibrator.transform(raw)
        out = np.empty((len(calibrated), 2))
        out[:, self.positive_index], out[:, 1 - self.positive_index] = calibrated, 1 - calibrated
        return out

    def predict(self, X: Any) -> np.ndarray:
        return np.asarray(self.classes_[self.predict_proba(X).argmax(axis=1)])

    def __sklearn_is_fitted__(self) -> bool:
        return True


def cross_calibrated(
    score: np.ndarray, truth: np.ndarray, method: CalibrationMethod, seed: int
) -> np.ndarray:
    """Out-of-fold calibrated probabilities (each row's map fitted on the other rows)."""
    out = np.empty_like(score, dtype=float)
    splits = min(5, int(np.bincount(truth.astype(int), minlength=2).min()))
    for train, valid in StratifiedKFold(splits, shuffle=True, random_state=seed).split(
        score, truth
    ):
        out[valid] = (
            ProbabilityCalibrator(method).fit(score[train], truth[train]).transform(score[valid])
        )
    return out


def choose_calibration(
    score: np.ndarray,
    truth: np.ndarray,
    seed: int,
    acceptable: Callable[[np.ndarray], bool] | None = None,
) -> tuple[CalibrationMethod | None, np.ndarray, dict[str, float]]:
    """The calibration method with the lowest cross-validated log loss, if it beats none.

    ``acceptable`` vetoes a method given its calibrated out-of-fold probabilities (e.g. when
    isotonic steps would cost ranking quality). Returns the method (None: keep raw
    probabilities), the out-of-fold positive-class probabilities to use downstream, and the log
    loss of each option.
    """
    truth = np.asarray(truth, dtype=int)
    losses = {"none": float(log_loss(truth, np.clip(score, _EPS, 1 - _EPS), labels=[0, 1]))}
    if np.bincount(truth, minlength=2).min() < 2:
        return None, score, losses
    calibrated: dict[str, np.ndarray] = {}
    for method in ("sigmoid", "isotonic"):
        calibrated[method] = cross_calibrated(score, truth, method, seed)  # type: ignore[arg-type]
        clipped = np.clip(calibrated[method], _EPS, 1 - _EPS)
        losses[method] = float(log_loss(truth, clipped, labels=[0, 1]))
    for method in sorted(calibrated, key=lambda m: losses[m]):
        if losses[method] >= losses["none"] - CALIBRATION_GAIN:
            break
        if acceptable is None or acceptable(calibrated[method]):
            return method, calibrated[method], losses  # type: ignore[return-value]
    return None, score, losses
