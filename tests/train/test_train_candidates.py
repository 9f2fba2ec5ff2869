"""Candidate families: default configurations, search spaces as data, pipelines."""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.pipeline import Pipeline
from train_support import contract_for, signal_frame

from loopml.errors import InvalidInputError
from loopml.train import (
    DEFAULT_FAMILIES,
    FAMILIES,
    Choice,
    FloatRange,
    IntRange,
    get_family,
    resolve_families,
)
from loopml.train._candidates import CATEGORIES

TASKS = ("binary", "multiclass", "regression")
MLP_SHAPE = {"hidden_units", "hidden_layers"}  # become the MLP's hidden_layer_sizes


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("name", list(FAMILIES))
def test_family_builds_preprocess_plus_model(name: str, task: str) -> None:
    family = get_family(name)
    pipeline = family.build(contract_for(signal_frame(), "label"), task, seed=3)  # type: ignore[arg-type]
    if name == "lightgbm":  # the other choice of its categories, too
        codes = family.build(contract_for(signal_frame(), "label"), task, {CATEGORIES: "codes"})  # type: ignore[arg-type]
        encoded = codes[:-1].fit_transform(signal_frame().drop(columns="label"))
        assert not any(isinstance(t, pd.CategoricalDtype) for t in encoded.dtypes)
    assert isinstance(pipeline, Pipeline)
    assert list(pipeline.named_steps) == ["preprocess", "model"]
    model_params = pipeline.named_steps["model"].get_params()
    defaults = family.default_params(task)  # type: ignore[arg-type]
    for key, value in defaults.items():
        if key in MLP_SHAPE:
            continue
        if key == CATEGORIES:  # a preprocessing choice: native categories stay pandas categories
            encoded = pipeline[:-1].fit_transform(signal_frame().drop(columns="label"))
            native = any(isinstance(t, pd.CategoricalDtype) for t in encoded.dtypes)
            assert native == (value == "native")
            continue
        # Regressors fitted on a standardised target (svm, mlp) and the calibrated svm
        # classifier nest their parameters.
        names = [key, f"regressor__{key}", f"estimator__{key}"]
        found = next(name for name in names if name in model_params)
        assert model_params[found] == value
    if name == "mlp":
        sizes = model_params.get(
            "hidden_layer_sizes", model_params.get("regressor__hidden_layer_sizes")
        )
        assert sizes == (defaults["hidden_units"],) * defaults["hidden_layers"]
    is_classifier = hasattr(pipeline.named_steps["model"], "predict_proba")
    assert is_classifier == (task != "regression")


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("name", list(FAMILIES))
def test_search_spaces_are_valid_ranges(name: str, task: str) -> None:
    space = get_family(name).search_space(task)  # type: ignore[arg-type]
    for param in space.values():
        if isinstance(param, IntRange | FloatRange):
            assert param.low < param.high
            assert not param.log or param.low > 0
        else:
            assert isinstance(param, Choice) and len(param.choices) >= 2
    if name != "dummy":
        assert space, f"{name} has nothing to tune"


def test_overrides_are_checked_against_the_family() -> None:
    linear = get_family("linear")
    assert linear.params("binary", {"C": 0.1})["C"] == 0.1
    with pytest.raises(InvalidInputError, match="no parameter"):
        linear.params("binary", {"alpha": 0.1})


def test_lightgbm_defaults_are_quiet_and_seeded() -> None:
    pipeline = get_family("lightgbm").build(
        contract_for(signal_frame(), "label"), "binary", seed=7, n_jobs=1
    )
    params = pipeline.named_steps["model"].get_params()
    assert params["verbose"] == -1 and params["random_state"] == 7 and params["n_jobs"] == 1
    assert params["learning_rate"] == 0.05 and params["num_leaves"] == 31


def test_families_resolve_in_training_order_with_the_dummy_first() -> None:
    assert [f.name for f in resolve_families(None)] == list(DEFAULT_FAMILIES)
    assert [f.name for f in resolve_families(["lightgbm", "linear"])] == [
        "dummy",
        "linear",
        "lightgbm",
    ]
    with pytest.raises(InvalidInputError, match="Unknown model family 'catboost'"):
        resolve_families(["catboost"])
