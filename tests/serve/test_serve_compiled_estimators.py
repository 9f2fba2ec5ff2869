"""Estimators scored without scikit-learn's checks give scikit-learn's numbers exactly."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from loopml.serve._compiled_estimators import estimator_scores, standardised_target

RNG = np.random.default_rng(0)
X = RNG.normal(size=(400, 9))


def _three(X: np.ndarray) -> np.ndarray:
    return np.digitize(X[:, 0], [-0.5, 0.5])


@pytest.mark.parametrize(
    ("model", "target"),
    [
        (LogisticRegression(), (X[:, 0] > 0).astype(int)),
        (LogisticRegression(class_weight="balanced"), (X[:, 0] + X[:, 1] > 1).astype(int)),
        (LogisticRegression(), _three(X)),
        (Ridge(alpha=3.0), 2 * X[:, 0] - X[:, 3] + 1),
        (LinearRegression(), X[:, 1]),
        (
            MLPClassifier(hidden_layer_sizes=(8,), max_iter=50, random_state=0),
            (X[:, 0] > 0).astype(int),
        ),
        (
            MLPClassifier(
                hidden_layer_sizes=(8, 4), activation="tanh", max_iter=50, random_state=0
            ),
            _three(X),
        ),
        (MLPRegressor(hidden_layer_sizes=(8,), max_iter=50, random_state=0), X[:, 0] * 3),
    ],
    ids=[
        "binary",
        "binary-weighted",
        "multiclass",
        "ridge",
        "least-squares",
        "perceptron-binary",
        "perceptron-multiclass",
        "perceptron-regressor",
    ],
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # a short fit will do
def test_scores_equal_scikit_learn_bit_for_bit(model: object, target: np.ndarray) -> None:
    fitted = model.fit(X, target)  # type: ignore[attr-defined]
    score = estimator_scores(fitted)
    assert score is not None
    reference = fitted.predict_proba if hasattr(fitted, "predict_proba") else fitted.predict
    np.testing.assert_array_equal(score(X), reference(X))
    for i in range(20):  # one row at a time, as a served record is scored
        np.testing.assert_array_equal(score(X[i : i + 1]), reference(X[i : i + 1]))


def test_other_estimators_are_not_taken_for_linear_ones() -> None:
    forest = RandomForestRegressor(n_estimators=2).fit(X, X[:, 0])
    assert estimator_scores(forest) is None
    two_targets = Ridge().fit(X, X[:, :2])
    assert estimator_scores(two_targets) is None


def test_a_standardised_target_is_brought_back_as_scikit_learn_does() -> None:
    wrapped = TransformedTargetRegressor(regressor=Ridge(), transformer=StandardScaler())
    wrapped.fit(X, 50 * X[:, 2] + 7)
    inverse = standardised_target(wrapped.transformer_)
    inner = estimator_scores(wrapped.regressor_)
    assert inverse is not None and inner is not None
    np.testing.assert_array_equal(inverse(inner(X)), wrapped.predict(X))
    np.testing.assert_array_equal(inverse(inner(X[:1])), wrapped.predict(X[:1]))
    assert standardised_target(MinMaxScaler().fit(X[:, :1])) is None
