"""Binary decisions: thresholds (F1, Youden, cost), calibration, latency budget, blending."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pytest
from sklearn.metrics import log_loss
from train_support import contract_for, signal_frame

from loopml.errors import InvalidInputError
from loopml.train import Costs, train_candidates
from loopml.train._decision import (
    ProbabilityCalibrator,
    _logit,
    choose_calibration,
    choose_threshold,
)
from loopml.train._ensemble import BlendedClassifier, select_weights

FAST: dict[str, Any] = {"cv_folds": 3, "time_budget": 60.0, "n_jobs": 1, "task": "binary"}


def train(**kwargs: Any) -> Any:
    frame = signal_frame(300)
    return train_candidates(frame, contract_for(frame, "label"), **{**FAST, **kwargs})


def noisy_scores(n: int = 2000, positive_share: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    truth = rng.random(n) < positive_share
    score = np.clip(0.5 * truth + rng.normal(0.25, 0.2, n), 0.001, 0.999)
    return truth, score


def test_thresholds_follow_their_criterion() -> None:
    truth, score = noisy_scores()
    assert choose_threshold("fixed", truth, score, None) == (0.5, "fixed")
    f1, _ = choose_threshold("f1", truth, score, None)
    youden, _ = choose_threshold("youden", truth, score, None)
    assert 0.2 < f1 < 0.8 and 0.2 < youden < 0.8
    missing_costly, _ = choose_threshold("cost", truth, score, Costs(1.0, 20.0))
    false_alarm_costly, _ = choose_threshold("cost", truth, score, Costs(20.0, 1.0))
    assert missing_costly < youden < false_alarm_costly


def test_auto_threshold_uses_costs_then_f1_for_rare_positives() -> None:
    rare_truth, rare_score = noisy_scores(positive_share=0.05)
    assert choose_threshold("auto", rare_truth, rare_score, None)[1] == "f1"
    truth, score = noisy_scores(positive_share=0.4)
    assert choose_threshold("auto", truth, score, None) == (0.5, "fixed")
    assert choose_threshold("auto", truth, score, Costs(1.0, 5.0))[1] == "cost"


def test_cost_threshold_needs_costs() -> None:
    with pytest.raises(InvalidInputError, match="needs the costs"):
        train(families=["linear"], threshold="cost")
    with pytest.raises(InvalidInputError, match="non-negative"):
        Costs(-1.0, 2.0)


def test_engine_records_the_chosen_threshold() -> None:
    result = train(families=["linear"], threshold="youden")
    bundle = result.best.bundle
    assert bundle.metadata["threshold_strategy"] == "youden" and 0 < bundle.threshold < 1
    costly = train(families=["linear"], threshold="cost", costs=Costs(1.0, 10.0)).best.bundle
    assert costly.metadata["threshold_strategy"] == "cost"
    assert costly.threshold < bundle.threshold


def test_calibration_repairs_distorted_probabilities_only() -> None:
    truth, score = noisy_scores()
    method, calibrated, losses = choose_calibration(score**3, truth, seed=0)
    assert method in ("sigmoid", "isotonic")
    assert log_loss(truth, calibrated) < log_loss(truth, score**3)
    assert losses[method] < losses["none"]
    rng = np.random.default_rng(1)
    p = rng.uniform(0.05, 0.95, 4000)
    honest, _, _ = choose_calibration(p, rng.random(4000) < p, seed=0)
    assert honest is None


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_a_calibrator_maps_scores_exactly_as_its_fitted_scikit_learn_map(method: str) -> None:
    rng = np.random.default_rng(3)
    score = rng.random(2000)
    truth = (rng.random(2000) < score**2).astype(int)
    calibrator = ProbabilityCalibrator(method).fit(score, truth)  # type: ignore[arg-type]
    queries = np.concatenate([rng.random(500) * 1.2 - 0.1, score[:50], [0.0, 1.0]])
    fitted = calibrator.map_
    if method == "isotonic":
        expected = np.clip(fitted.predict(queries), 0.0, 1.0)
    else:
        expected = fitted.predict_proba(_logit(queries)[:, None])[:, 1]
    np.testing.assert_array_equal(calibrator.transform(queries), expected)
    np.testing.assert_array_equal(calibrator.transform(queries[:1]), expected[:1])


def test_calibrated_bundles_predict_probabilities() -> None:
    frame = signal_frame(300)
    result = train(families=["linear", "random_forest"], calibrate_probabilities=True)
    for family in ("linear", "random_forest"):
        bundle = result.candidate(family).bundle
        assert "calibration" in bundle.metadata
        out = bundle.predict_frame(frame)
        np.testing.assert_allclose(out[["probability_no", "probability_yes"]].sum(axis=1), 1.0)
        restored = pickle.loads(pickle.dumps(bundle))
        np.testing.assert_allclose(restored.predict_proba(frame), bundle.predict_proba(frame))


def test_latency_budget_excludes_slow_candidates_before_selection() -> None:
    result = train(families=["linear", "lightgbm"], max_latency_ms=1e-9)
    for family in ("linear", "lightgbm"):
        excluded = result.candidate(family)
        assert excluded.status == "skipped" and excluded.bundle is None
        assert "latency p99" in excluded.reason and "exceeds the 1e-09 ms budget" in excluded.reason
    assert result.best.family == "dummy"
    assert train(families=["linear"], max_latency_ms=1e6).best.family == "linear"


def test_greedy_blend_weights_complementary_predictions() -> None:
    rng = np.random.default_rng(0)
    truth = rng.random(1000) < 0.5
    a = np.clip(truth * 0.3 + rng.normal(0.35, 0.25, 1000), 0, 1)
    b = np.clip(truth * 0.3 + rng.normal(0.35, 0.25, 1000), 0, 1)
    from sklearn.metrics import roc_auc_score

    weights, score = select_weights([a, b], lambda p: roc_auc_score(truth, p))
    assert weights.sum() == pytest.approx(1.0) and (weights > 0).all()
    assert score > max(roc_auc_score(truth, a), roc_auc_score(truth, b))


def test_ensemble_is_kept_only_when_it_beats_the_best() -> None:
    frame = signal_frame(300)
    result = train(families=["linear", "lightgbm", "extra_trees"], ensemble=True)
    families = [c.family for c in result.candidates]
    if "ensemble" in families:
        blend = result.candidate("ensemble")
        best_single = max(c.cv_mean for c in result.candidates if c.family != "ensemble" and c.ok)
        assert blend.cv_mean > best_single
        assert isinstance(blend.bundle.pipeline, BlendedClassifier)
        np.testing.assert_allclose(blend.bundle.predict_proba(frame).sum(axis=1), 1.0)
    else:
        assert any("did not beat" in w for w in result.warnings)
