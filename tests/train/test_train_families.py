"""The extra families (histogram boosting, SVM, k-NN, MLP) and where data size rules them out."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from train_support import contract_for, signal_frame

from loopml.train import FAMILIES, train_candidates

NEW = ["hist_gradient_boosting", "svm", "knn", "mlp"]


@pytest.mark.slow
@pytest.mark.parametrize("task", ["binary", "regression"])
def test_new_families_train_and_predict(task: str) -> None:
    frame = signal_frame(200)
    target = "label"
    if task == "regression":
        frame = frame.assign(value=2 * frame["x"] + (frame["group"] == "a")).drop(columns="label")
        target = "value"
    contract = contract_for(frame, target)
    for family in NEW:  # one call each: the budget planner must not skip any
        result = train_candidates(
            frame,
            contract,
            task=task,
            families=[family],
            cv_folds=3,
            n_jobs=1,
            time_budget=300.0,
            trials=2,  # tuning runs, but a fixed count: the point is that each family fits
        )
        dummy = result.candidate("dummy").cv_mean
        candidate = result.candidate(family)
        assert candidate.status == "ok", candidate.reason
        better = candidate.cv_mean > dummy if task == "binary" else candidate.cv_mean < dummy
        assert better, family
        assert len(candidate.bundle.predict_frame(frame.head(5))) == 5


def test_small_data_families_are_skipped_on_large_data(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(FAMILIES, "svm", dataclasses.replace(FAMILIES["svm"], max_rows=100))
    frame = signal_frame(150)
    result = train_candidates(
        frame, contract_for(frame, "label"), task="binary", families=["svm"], cv_folds=3
    )
    assert result.candidate("svm").reason == "skipped: svm is only tried up to 100 rows (150 here)"


def test_too_small_a_budget_keeps_the_dummy_and_says_so() -> None:
    frame = signal_frame()
    result = train_candidates(
        frame, contract_for(frame, "label"), task="binary", families=["linear"], time_budget=1e-6
    )
    assert result.best.family == "dummy"
    assert any("too small to fit any model beyond the dummy" in w for w in result.warnings)
    np.testing.assert_allclose(result.best.bundle.predict_proba(frame).sum(axis=1), 1.0)
