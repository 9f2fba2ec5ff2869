"""Estimators scored with scikit-learn's own arithmetic minus its per-call checks, which cost
0.1-0.3 ms a call in scikit-learn 1.9 whatever the rows (a served record pays them in full).

- :class:`~sklearn.linear_model.LogisticRegression`: the logistic of the decision (binary) or
  its softmax (multiclass), as ``predict_proba`` computes them.
- Least-squares regressors (``Ridge``, ``LinearRegression``, …): ``X @ coef_ + intercept_``.
- Multi-layer perceptrons: scikit-learn's forward pass itself, called without input checks.
- A target standardised by ``StandardScaler`` (``TransformedTargetRegressor``): its inverse.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.special import expit
from sklearn.linear_model import LogisticRegression
from sklearn.linear_model._base import LinearModel
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler

Scores = Callable[[np.ndarray], np.ndarray]
"""A float64 matrix (rows, features) -> probabilities (rows, classes) or values (rows,)."""


def estimator_scores(estimator: object) -> Scores | None:
    """The numpy scoring function of a fitted ``estimator`` listed above; None for any other."""
    if isinstance(estimator, MLPClassifier | MLPRegressor):
        return _perceptron(estimator)
    if isinstance(estimator, LogisticRegression):
        return _logistic(estimator)
    if isinstance(estimator, LinearModel) and hasattr(estimator, "coef_"):
        coef = np.asarray(estimator.coef_, dtype=float)
        if coef.ndim != 1:
            return None  # several targets: not a model loopml trains
        intercept = estimator.intercept_
        return lambda X: X @ coef + intercept
    return None


def _logistic(model: LogisticRegression) -> Scores:
    coef_t = np.asarray(model.coef_, dtype=float).T
    intercept = np.asarray(model.intercept_, dtype=float)
    if len(model.classes_) <= 2:

        def binary(X: np.ndarray) -> np.ndarray:
            p = expit((X @ coef_t + intercept).reshape(-1))
            return np.stack([1 - p, p], axis=1)

        return binary

    def multiclass(X: np.ndarray) -> np.ndarray:  # scikit-learn's softmax, step for step
        z = X @ coef_t + intercept
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        return z

    return multiclass


def _perceptron(model: MLPClassifier | MLPRegressor) -> Scores:
    forward = model._forward_pass_fast  # the library's forward pass; only its checks are skipped

    if isinstance(model, MLPClassifier):

        def probabilities(X: np.ndarray) -> np.ndarray:  # MLPClassifier.predict_proba
            out = forward(X, check_input=False)
            if model.n_outputs_ == 1:
                out = out.ravel()
            return np.vstack([1 - out, out]).T if out.ndim == 1 else out

        return probabilities

    def values(X: np.ndarray) -> np.ndarray:  # MLPRegressor.predict
        out = forward(X, check_input=False)
        return out.ravel() if out.shape[1] == 1 else out

    return values


def standardised_target(transformer: object) -> Callable[[np.ndarray], np.ndarray] | None:
    """``StandardScaler.inverse_transform`` of one predicted target (``(rows,)`` in and out),
    step for step; None for any other transformer."""
    if not isinstance(transformer, StandardScaler):
        return None
    scale = transformer.scale_ if transformer.with_std else None
    mean = transformer.mean_ if transformer.with_mean else None

    def inverse(predicted: np.ndarray) -> np.ndarray:
        out = np.array(predicted, dtype=float).reshape(-1, 1)
        if scale is not None:
            out *= scale
        if mean is not None:
            out += mean
        return out[:, 0]

    return inverse
