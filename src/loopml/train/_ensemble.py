"""Blending the best candidates: greedy ensemble selection on out-of-fold predictions.

Caruana et al.'s ensemble selection (2004): start from the best candidate and repeatedly add,
with replacement, the candidate whose inclusion most improves the primary metric of the averaged
out-of-fold predictions. The weights are the selection counts. Unlike a stacked meta-model it
optimises the primary metric directly, fits nothing new (the members are already refitted on all
rows) and cannot overfit a second-level model; the blend is kept only if it beats the best single
candidate by a margin.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone

ENSEMBLE_STEPS = 20
"""Selection rounds (weights are multiples of 1/ENSEMBLE_STEPS)."""


def select_weights(
    oofs: Sequence[np.ndarray], score: Callable[[np.ndarray], float]
) -> tuple[np.ndarray, float]:
    """Weights over ``oofs`` (summing to 1) and the score of the weighted average.

    ``score`` is signed so that higher is better. Rows some member did not predict (NaN) must
    already be removed.
    """
    counts = np.zeros(len(oofs))
    total = np.zeros_like(oofs[0], dtype=float)
    best_score = -np.inf
    for step in range(1, ENSEMBLE_STEPS + 1):
        trial = [score((total + oof) / step) for oof in oofs]
        chosen = int(np.nanargmax(trial))
        if step > 1 and trial[chosen] <= best_score:
            break
        counts[chosen] += 1
        total += oofs[chosen]
        best_score = trial[chosen]
    return counts / counts.sum(), float(best_score)


class _Blend(BaseEstimator):
    def __init__(self, members: list[Any], weights: list[float]) -> None:
        self.members = members
        self.weights = weights

    def fit(self, X: Any, y: Any) -> _Blend:
        """Refit every member on ``X``, ``y``; the weights are kept."""
        self.members = [clone(m).fit(X, y) for m in self.members]
        return self

    def __sklearn_is_fitted__(self) -> bool:
        return True


class BlendedClassifier(ClassifierMixin, _Blend):
    """Weighted average of the class probabilities of fitted classifiers (same classes)."""

    @property
    def classes_(self) -> np.ndarray:
        return np.asarray(self.members[0].classes_)

    def predict_proba(self, X: Any) -> np.ndarray:
        return np.asarray(
            sum(
                w * np.asarray(m.predict_proba(X))
                for m, w in zip(self.members, self.weights, strict=True)
            )
        )

    def predict(self, X: Any) -> np.ndarray:
        return np.asarray(self.classes_[self.predict_proba(X).argmax(axis=1)])


class BlendedRegressor(RegressorMixin, _Blend):
    """Weighted average of the predictions of fitted regressors."""

    def predict(self, X: Any) -> np.ndarray:
        return np.asarray(
            sum(
                w * np.asarray(m.predict(X), dtype=float)
                for m, w in zip(self.members, self.weights, strict=True)
            )
        )


def blend_of(task: str, members: list[Any], weights: list[float]) -> _Blend:
    """The weighted blend of ``members`` for ``task``: averaged regression predictions, or
    averaged class probabilities for classification."""
    if task == "regression":
        return BlendedRegressor(members, weights)
    return BlendedClassifier(members, weights)
