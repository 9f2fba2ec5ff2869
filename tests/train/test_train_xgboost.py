"""XGBoost, the optional family: present when the package is installed, native categories,
a search space the tuner can sample, and CPU unless a GPU really works."""

from __future__ import annotations

import numpy as np
import optuna
import pytest
from train_support import contract_for, signal_frame

from loopml.train import DEFAULT_FAMILIES, FAMILIES, get_family, resolve_families
from loopml.train._accelerator import lightgbm_device, xgboost_device
from loopml.train._space import suggest

xgboost = pytest.importorskip("xgboost")


def test_xgboost_is_an_opt_in_family_with_native_categories() -> None:
    assert "xgboost" in FAMILIES and "xgboost" not in DEFAULT_FAMILIES
    assert [f.name for f in resolve_families(["xgboost"])] == ["dummy", "xgboost"]
    frame = signal_frame(200)
    frame.loc[frame.index[:10], "x"] = np.nan
    family = get_family("xgboost")
    pipeline = family.build(contract_for(frame, "label"), "binary", {"n_estimators": 30})
    model = pipeline.fit(frame.drop(columns="label"), (frame["label"] == "yes").astype(int))
    booster = model.named_steps["model"]
    assert isinstance(booster, xgboost.XGBClassifier) and booster.enable_categorical
    assert (
        str(model.named_steps["preprocess"].transform(frame.head(3))["categorical__group"].dtype)
        == "category"
    )
    proba = model.predict_proba(frame.drop(columns="label"))[:, 1]
    truth = (frame["label"] == "yes").to_numpy()
    assert proba[truth].mean() > proba[~truth].mean() + 0.3


def test_xgboost_search_space_samples_valid_configurations() -> None:
    family = get_family("xgboost")
    space = family.search_space("regression")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    params = suggest(study.ask(), space)
    assert set(params) == set(family.default_params("regression"))
    regressor = family.build(contract_for(signal_frame(50), "label"), "regression", params)
    assert isinstance(regressor.named_steps["model"], xgboost.XGBRegressor)


def test_cpu_is_the_default_device(monkeypatch: pytest.MonkeyPatch) -> None:
    xgboost_device.cache_clear()
    lightgbm_device.cache_clear()
    monkeypatch.setenv("LOOPML_DEVICE", "cpu")
    try:
        assert xgboost_device() == "cpu" and lightgbm_device() == "cpu"
        booster = get_family("xgboost").build(contract_for(signal_frame(20), "label"), "binary")
        assert booster.named_steps["model"].get_params()["device"] == "cpu"
    finally:
        xgboost_device.cache_clear()
        lightgbm_device.cache_clear()
