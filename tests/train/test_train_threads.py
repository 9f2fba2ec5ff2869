"""Threads per model: one thread while other work holds the cores, same predictions either way."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
import pytest
from lightgbm import LGBMClassifier
from sklearn.pipeline import Pipeline

from loopml.train import _session
from loopml.train._session import Session, idle_threads


def _session_with(n_jobs: int) -> Session:
    return Session(
        data=None,  # type: ignore[arg-type]
        contract=None,  # type: ignore[arg-type]
        task="binary",
        metric=None,  # type: ignore[arg-type]
        folds=[],
        seed=0,
        n_jobs=n_jobs,
        deadline=time.perf_counter() + 60,
        time_budget=60,
        cv_strategy="stratified",
        report=lambda message, fraction: None,
        threads=n_jobs,
    )


def test_idle_threads_follows_the_load_average(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_session.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(_session.os, "getloadavg", lambda: (0.2, 0.2, 0.2))
    assert idle_threads(2) == 2
    monkeypatch.setattr(_session.os, "getloadavg", lambda: (1.5, 1.5, 1.5))
    assert idle_threads(2) == 1
    assert idle_threads(2, own=1.0) == 2  # the load is this process's own thread


def test_a_starved_multithreaded_fold_falls_back_to_one_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_session.os, "getloadavg", lambda: (9.0, 9.0, 9.0))
    session = _session_with(2)
    pipeline = Pipeline([("model", LGBMClassifier(n_jobs=2))])
    assert not session._busy(pipeline, wall=1.0, cpu=1.9)  # both threads got their CPU
    assert session._busy(pipeline, wall=1.0, cpu=1.0)  # half of it: the cores are busy
    assert session.threads == 1 and pipeline.get_params()["model__n_jobs"] == 1
    assert session.model_threads() == 1  # still loaded: stays on one thread
    monkeypatch.setattr(_session.os, "getloadavg", lambda: (0.9, 0.9, 0.9))
    assert session.model_threads() == 2  # the other work is gone


def test_thread_count_does_not_change_lightgbm_predictions() -> None:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(2000, 5)), columns=list("abcde"))
    X["c"] = pd.Categorical(rng.integers(0, 40, 2000))
    y = (X["a"] + rng.normal(size=2000) > 0).astype(int)
    params: dict[str, Any] = {
        "n_estimators": 50,
        "subsample": 0.8,
        "subsample_freq": 1,
        "colsample_bytree": 0.8,
        "deterministic": True,
        "force_col_wise": True,
        "verbose": -1,
    }
    one, two = (
        np.asarray(LGBMClassifier(n_jobs=n, **params).fit(X, y).predict_proba(X))[:, 1]
        for n in (1, 2)
    )
    assert np.array_equal(one, two)


def test_a_model_refit_on_one_thread_is_saved_with_the_sessions_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Busy cores at training time must not leave later scoring jobs on one thread."""
    from train_support import contract_for, signal_frame

    from loopml.train import train_candidates

    monkeypatch.setattr(_session.os, "getloadavg", lambda: (9.0, 9.0, 9.0))
    frame = signal_frame()
    options: dict[str, Any] = {"cv_folds": 2, "time_budget": 60.0, "task": "binary", "n_jobs": 2}
    result = train_candidates(frame, contract_for(frame, "label"), families=["lightgbm"], **options)
    model = result.candidate("lightgbm").bundle.pipeline.steps[-1][1]
    assert model.n_jobs == 2


def test_threads_are_restored_inside_calibrated_models_and_blends() -> None:
    from loopml.train._decision import CalibratedModel
    from loopml.train._ensemble import BlendedClassifier
    from loopml.train._finish import restore_threads

    def pipeline() -> Pipeline:
        return Pipeline([("model", LGBMClassifier(n_jobs=1))])

    calibrated = CalibratedModel(pipeline(), None, 1)  # type: ignore[arg-type]
    blend = BlendedClassifier([pipeline(), calibrated], [0.5, 0.5])
    restore_threads(blend, 2)
    assert blend.members[0].steps[-1][1].n_jobs == 2
    assert calibrated.model.steps[-1][1].n_jobs == 2
