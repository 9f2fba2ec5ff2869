"""The training engine on small frames: results, budget, determinism and bad inputs."""

from __future__ import annotations

import json
import pickle
from typing import Any

import numpy as np
import pandas as pd
import pytest
from train_support import contract_for, signal_frame

from loopml.errors import DataError, InvalidInputError, TrainingError
from loopml.train import CandidateResult, ModelBundle, train_candidates
from loopml.train._training_data import make_folds, prepare_training_data

FAST: dict[str, Any] = {"families": ["linear"], "cv_folds": 3, "time_budget": 10.0, "n_jobs": 1}


def train(frame: pd.DataFrame, target: str = "label", **kwargs: Any) -> Any:
    options = {**FAST, "task": "binary", **kwargs}
    return train_candidates(frame, contract_for(frame, target), **options)


def test_binary_training_returns_a_ranked_result_with_bundles() -> None:
    result = train(signal_frame())
    assert [c.family for c in result.candidates] == ["dummy", "linear"]
    assert all(c.status == "ok" and len(c.fold_scores) == 3 for c in result.candidates)
    linear, dummy = result.candidate("linear"), result.candidate("dummy")
    assert dummy.cv_mean == pytest.approx(0.5)
    assert linear.cv_mean is not None and linear.cv_mean > 0.8
    assert linear.cv_std == pytest.approx(np.std(linear.fold_scores))
    assert result.best is linear
    assert result.baseline_score == linear.cv_mean
    assert result.metric == "roc_auc" and result.greater_is_better
    assert result.classes == ["no", "yes"] and result.n_train_rows == 240
    assert linear.latency_ms_p50 is not None and linear.latency_ms_p50 > 0
    assert linear.fit_seconds > 0 and linear.cv_seconds > 0


def test_bundles_predict_labels_and_probabilities() -> None:
    frame = signal_frame()
    bundle = train(frame).best.bundle
    assert isinstance(bundle, ModelBundle)
    assert bundle.family == "linear" and bundle.task == "binary"
    assert bundle.metadata["cv_mean"] == train(frame).best.cv_mean
    out = bundle.predict_frame(frame.head(20))
    assert list(out.columns) == ["prediction", "probability_no", "probability_yes"]
    np.testing.assert_allclose(out[["probability_no", "probability_yes"]].sum(axis=1), 1.0)
    assert set(out["prediction"]) <= {"no", "yes"}


def test_leaderboard_is_json_and_best_first() -> None:
    rows = train(signal_frame()).leaderboard()
    json.dumps(rows)
    assert [r["family"] for r in rows] == ["linear", "dummy"]
    assert rows[0]["rank"] == 1 and rows[0]["is_best"]
    assert "bundle" not in rows[0]


def test_lower_is_better_metrics_rank_ascending() -> None:
    result = train(signal_frame(), metric="log_loss")
    assert not result.greater_is_better
    assert result.best.family == "linear"
    assert result.best.cv_mean is not None and result.baseline_score == result.best.cv_mean


def test_same_seed_gives_the_same_scores() -> None:
    frame = signal_frame()
    first = train(frame, seed=11, families=["linear", "lightgbm"])
    second = train(frame, seed=11, families=["linear", "lightgbm"])
    for a, b in zip(first.candidates, second.candidates, strict=True):
        assert a.fold_scores == b.fold_scores


def test_tiny_budget_trains_only_the_dummy_and_marks_the_rest() -> None:
    result = train(signal_frame(), families=["linear", "lightgbm"], time_budget=1e-6)
    assert result.candidate("dummy").status == "ok"
    for family in ("linear", "lightgbm"):
        skipped = result.candidate(family)
        assert skipped.status == "skipped" and skipped.bundle is None
        assert skipped.reason.startswith("skipped: time budget")
    assert result.best.family == "dummy"
    assert [r["status"] for r in result.leaderboard()] == ["ok", "skipped", "skipped"]


def test_rows_without_a_target_are_dropped_and_counted() -> None:
    frame = signal_frame()
    frame.loc[:9, "label"] = None
    result = train(frame)
    assert result.dropped_target_rows == 10 and result.n_train_rows == 230
    assert any("Dropped 10 row(s)" in w for w in result.warnings)


def test_positive_class_defaults_to_the_minority_and_can_be_chosen() -> None:
    frame = signal_frame()
    counts = frame["label"].value_counts()
    assert train(frame).positive_class == counts.idxmin()
    result = train(frame, positive_class="no")
    assert result.positive_class == "no"
    assert result.best.bundle is not None and result.best.bundle.positive_class == "no"
    numeric = frame.assign(label=(frame["label"] == "yes").astype(int))
    assert train(numeric, positive_class="1").positive_class == 1
    with pytest.raises(InvalidInputError, match="'maybe' is not one of") as info:
        train(frame, positive_class="maybe")
    assert "no, yes" in str(info.value)


def test_max_f1_threshold_is_chosen_and_recorded() -> None:
    bundle = train(signal_frame(), threshold="max_f1").best.bundle
    assert bundle is not None and bundle.metadata["threshold_strategy"] == "max_f1"
    assert 0.0 < bundle.threshold < 1.0
    fixed = train(signal_frame()).best.bundle
    assert fixed is not None and fixed.threshold == 0.5
    assert fixed.metadata["threshold_strategy"] == "fixed"


def test_callbacks_report_candidates_and_progress() -> None:
    seen: list[CandidateResult] = []
    fractions: list[float] = []
    result = train(
        signal_frame(), on_candidate=seen.append, progress=lambda m, f: fractions.append(f)
    )
    assert seen == result.candidates
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_multiclass_and_regression_tasks() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(150, 2))
    frame = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "kind": np.digitize(x[:, 0], [-0.5, 0.5])})
    result = train(frame, "kind", task="multiclass")
    assert result.classes == [0, 1, 2] and result.positive_class is None
    assert result.best.family == "linear"
    bundle = result.best.bundle
    assert bundle is not None
    probabilities = bundle.predict_frame(frame)[["probability_0", "probability_1", "probability_2"]]
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)

    reg = frame.assign(value=3 * frame["a"] - frame["b"] + rng.normal(scale=0.1, size=150))
    reg_result = train(reg.drop(columns="kind"), "value", task="regression")
    assert reg_result.metric == "rmse" and not reg_result.greater_is_better
    dummy_rmse, linear_rmse = (reg_result.candidate(f).cv_mean for f in ("dummy", "linear"))
    assert linear_rmse < 0.2 < dummy_rmse
    assert reg_result.best.bundle is not None
    assert list(reg_result.best.bundle.predict_frame(reg).columns) == ["prediction"]


def test_time_folds_validate_on_later_rows() -> None:
    frame = signal_frame().assign(when=pd.date_range("2024-01-01", periods=240, freq="D"))
    shuffled = frame.sample(frac=1.0, random_state=0)
    contract = contract_for(shuffled, "label", when={"role": "time"})
    result = train_candidates(shuffled, contract, task="binary", cv_strategy="time", **FAST)
    assert result.cv_strategy == "time" and result.best.family == "linear"
    assert all(len(c.fold_scores) == 3 for c in result.candidates)


def test_a_class_with_few_rows_reduces_folds_with_a_warning() -> None:
    frame = signal_frame(60)
    frame.loc[:2, "label"] = "rare"
    result = train(frame, task="multiclass", cv_folds=5, families=[])
    assert result.cv_folds == 3
    assert any("Reduced cross-validation from 5 to 3 folds" in w for w in result.warnings)
    frame.loc[1:2, "label"] = "no"
    with pytest.raises(DataError, match="'rare' has only 1 row"):
        train(frame, task="multiclass")


def test_a_target_with_one_class_is_refused() -> None:
    frame = signal_frame().assign(label="yes")
    with pytest.raises(
        DataError, match=r"has only one class \(yes\); a classifier needs at least two"
    ):
        train(frame)


def test_constant_features_fit_only_the_dummy_and_warn() -> None:
    frame = pd.DataFrame({"x": [1.0] * 40, "label": ["a", "b"] * 20})
    result = train(frame)
    assert result.best.family == "dummy"
    assert result.candidate("linear").reason == "skipped: every feature column is constant"
    assert any("constant" in w for w in result.warnings)


def test_more_columns_than_rows_still_trains() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(30, 60)), columns=[f"f{i}" for i in range(60)])
    frame["label"] = np.where(frame["f0"] > 0, "yes", "no")
    result = train(frame)
    assert result.candidate("linear").status == "ok"
    assert any("more feature columns (60) than rows (30)" in w for w in result.warnings)


def test_bad_inputs_are_refused_with_clear_errors() -> None:
    frame = signal_frame()
    with pytest.raises(DataError, match="no feature columns"):
        train(frame[["label"]])
    with pytest.raises(InvalidInputError, match="binary but the target 'kind' has 3 classes"):
        train(frame.assign(kind=["a", "b", "c"] * 80).drop(columns="label"), "kind")
    with pytest.raises(InvalidInputError, match="'accuracy' does not apply to regression"):
        train(frame.assign(label=1.0), task="regression", metric="accuracy")
    with pytest.raises(DataError, match="not finite numbers"):
        train(frame, task="regression")
    with pytest.raises(InvalidInputError, match="cv_folds must be at least 2"):
        train(frame, cv_folds=1)
    with pytest.raises(InvalidInputError, match="time_budget"):
        train(frame, time_budget=0)
    contract = contract_for(frame, "label")
    with pytest.raises(DataError, match="missing 1 feature column"):
        train_candidates(frame.drop(columns="noise"), contract, task="binary")


def test_training_error_when_no_candidate_can_be_scored() -> None:
    # Time-ordered folds whose validation rows are all one class: ROC AUC is undefined.
    frame = pd.DataFrame({"x": np.arange(40.0), "label": ["a"] * 4 + ["b"] * 36})
    with pytest.raises(TrainingError, match="No candidate could be fitted"):
        train(frame, cv_strategy="time")


def test_time_folds_follow_the_time_column_not_the_row_order() -> None:
    frame = signal_frame().assign(when=pd.date_range("2024-01-01", periods=240, freq="D"))
    shuffled = frame.sample(frac=1.0, random_state=0).reset_index(drop=True)
    contract = contract_for(shuffled, "label", when={"role": "time"})
    data = prepare_training_data(shuffled, contract, "binary")
    folds, _ = make_folds(data, "binary", strategy="time", n_folds=3, seed=0)
    for train_rows, valid_rows in folds:
        assert shuffled["when"].iloc[train_rows].max() < shuffled["when"].iloc[valid_rows].min()


def test_bundles_survive_pickling() -> None:
    frame = signal_frame()
    bundle = train(frame, families=["linear", "lightgbm"]).candidate("lightgbm").bundle
    assert bundle is not None
    restored = pickle.loads(pickle.dumps(bundle))
    np.testing.assert_allclose(restored.predict_proba(frame), bundle.predict_proba(frame))


def test_the_best_candidate_is_refitted_even_when_the_budget_has_run_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from loopml.train import _engine

    finish_all = _engine._finish_all

    def out_of_time(session: Any, states: Any, start: float) -> Any:
        monkeypatch.setattr(session, "remaining", lambda: 0.0)  # tuning used every second
        return finish_all(session, states, start)

    monkeypatch.setattr(_engine, "_finish_all", out_of_time)
    result = train(signal_frame())
    assert result.best.family == "linear"
    assert result.best.bundle is not None
    assert not any("beyond the dummy" in note for note in result.warnings)
