"""Linear models scored with their coefficients give scikit-learn's numbers exactly."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge

from loopml.serve._compiled_linear import linear_scores

RNG = np.random.default_rng(0)
X = RNG.normal(size=(400, 9))


@pytest.mark.parametrize(
    ("model", "target"),
    [
        (LogisticRegression(), (X[:, 0] > 0).astype(int)),
        (LogisticRegression(class_weight="balanced"), (X[:, 0] + X[:, 1] > 1).astype(int)),
        (LogisticRegression(), np.digitize(X[:, 0], [-0.5, 0.5])),
        (Ridge(alpha=3.0), 2 * X[:, 0] - X[:, 3] + 1),
        (LinearRegression(), X[:, 1]),
    ],
    ids=["binary", "binary-weighted", "multiclass", "ridge", "least-squares"],
)
def test_scores_equal_scikit_learn_bit_for_bit(model: object, target: np.ndarray) -> None:
    fitted = model.fit(X, target)  # type: ignore[attr-defined]
    score = linear_scores(fitted)
    assert score is not None
    reference = fitted.predict_proba if hasattr(fitted, "predict_proba") else fitted.predict
    np.testing.assert_array_equal(score(X), reference(X))
    for i in range(20):  # one row at a time, as a served record is scored
        np.testing.assert_array_equal(score(X[i : i + 1]), reference(X[i : i + 1]))


def test_other_estimators_are_not_taken_for_linear_ones() -> None:
    forest = RandomForestRegressor(n_estimators=2).fit(X, X[:, 0])
    assert linear_scores(forest) is None
    two_targets = Ridge().fit(X, X[:, :2])
    assert linear_scores(two_targets) is None
