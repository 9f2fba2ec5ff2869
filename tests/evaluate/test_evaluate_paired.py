"""Paired comparison: DeLong against its definition, McNemar, the bootstrap and the verdict."""

from __future__ import annotations

import numpy as np
import pytest
from evaluate_cases import Case
from scipy import stats

from loopml.errors import InvalidInputError
from loopml.evaluate import compare_models, delong_test, mcnemar_test


def _delong_by_definition(pos: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """DeLong (1988) with O(m n) placement values: the reference for the fast algorithm."""
    out = []
    for s in (a, b):
        x, y = s[pos][:, None], s[~pos][None, :]
        psi = (x > y) + 0.5 * (x == y)
        out.append((psi.mean(), psi.mean(axis=1), psi.mean(axis=0)))
    m, n = pos.sum(), (~pos).sum()
    s10 = np.cov(np.vstack([out[0][1], out[1][1]]))
    s01 = np.cov(np.vstack([out[0][2], out[1][2]]))
    cov = s10 / m + s01 / n
    return out[0][0] - out[1][0], float(np.sqrt(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]))


def test_fast_delong_matches_the_definition_with_ties() -> None:
    rng = np.random.default_rng(0)
    pos = rng.random(400) < 0.3
    a = np.round(pos * 0.8 + rng.normal(size=400), 1)  # rounded: many ties
    b = np.round(pos * 0.4 + rng.normal(size=400), 1)
    result = delong_test(pos, a, b)
    diff, se = _delong_by_definition(pos, a, b)
    assert result["difference"] == pytest.approx(diff)
    assert result["se"] == pytest.approx(se)
    assert result["p_value"] == pytest.approx(2 * stats.norm.sf(abs(diff / se)))
    with pytest.raises(InvalidInputError):
        delong_test(np.ones(5, dtype=bool), a[:5], b[:5])


def test_mcnemar_exact_and_chi_square() -> None:
    a = np.array([True] * 8 + [False] * 2 + [True] * 50)
    b = np.array([False] * 8 + [True] * 2 + [True] * 50)
    small = mcnemar_test(a, b)
    assert (small["a_only"], small["b_only"], small["method"]) == (8, 2, "exact")
    assert small["p_value"] == pytest.approx(stats.binomtest(8, 10, 0.5).pvalue)
    a2 = np.r_[np.ones(40, bool), np.zeros(20, bool)]
    big = mcnemar_test(a2, ~a2)
    assert big["method"] == "chi2"
    assert big["p_value"] == pytest.approx(stats.chi2.sf((20 - 1) ** 2 / 60, 1))


def test_a_model_beats_a_shuffled_copy_and_ties_itself(churn: Case) -> None:
    same = compare_models(churn.bundle, churn.bundle, churn.test, metric="roc_auc")
    assert same.verdict == "no significant difference" and same.p_value == 1.0
    assert same.tests["bootstrap"]["low"] == same.tests["bootstrap"]["high"] == 0.0
    noisy = churn.test.copy()
    noisy["tenure"] = noisy["tenure"].sample(frac=1.0, random_state=0).to_numpy()
    # A: the model; B: the same model scoring shuffled tenure, so worse on the same labels.
    from loopml.train import ModelBundle

    class Shuffled(ModelBundle):
        def predict_frame(self, frame):  # type: ignore[no-untyped-def]
            return super().predict_frame(noisy.loc[frame.index])

    b = churn.bundle
    worse = Shuffled(b.pipeline, b.contract, b.task, b.classes, b.positive_class)
    result = compare_models(b, worse, churn.test, metric="roc_auc", ref_a="v1", ref_b="v2")
    assert result.verdict == "A better" and result.test == "delong"
    assert result.tests["bootstrap"]["low"] > 0
    assert result.metrics_a["roc_auc"] > result.metrics_b["roc_auc"]
    assert "v1" in result.message and "A better" in result.message
    accuracy = compare_models(b, worse, churn.test, metric="accuracy")
    assert accuracy.test == "mcnemar"


def test_regression_uses_the_bootstrap_and_lower_is_better(diabetes: Case) -> None:
    result = compare_models(diabetes.bundle, diabetes.bundle, diabetes.test, metric="rmse")
    assert result.test == "bootstrap" and "mcnemar" not in result.tests
    with pytest.raises(InvalidInputError, match="not defined"):
        compare_models(diabetes.bundle, diabetes.bundle, diabetes.test, metric="roc_auc")
