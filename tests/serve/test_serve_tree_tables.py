"""LightGBM trees as bit-vector tables: the same sums as ``Booster.predict`` bit for bit, the same
outputs for every objective, LightGBM's rules for missing values and categories, and a clean
refusal of what the layout cannot hold."""

from __future__ import annotations

import logging
from typing import Any

import lightgbm as lgb
import numpy as np
import pytest

from loopml.serve._compiled_trees import CompiledTrees, TableScorer
from loopml.serve._tree_compiler import model_text
from loopml.serve._tree_tables import BLOCK, UnsupportedModel, build_tables


def _data(n: int, seed: int, nan: bool = True) -> np.ndarray:
    """Four numbers (one with missing values, one often exactly zero) and two categories."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    X[::3, 2] = 0.0
    X[:, 4:] = rng.integers(0, 40, size=(n, 2))
    if nan:
        X[::9, 1] = np.nan
    return X


def _target(X: np.ndarray, kind: str) -> np.ndarray:
    signal = X[:, 0] + np.nan_to_num(X[:, 1]) * X[:, 3] + (X[:, 4] % 3 == 1) - (X[:, 2] == 0)
    if kind == "class":
        return (signal > 0).astype(int)
    if kind == "classes":
        return np.digitize(signal, [-0.7, 0.7])
    if kind == "share":
        return 1.0 / (1.0 + np.exp(-signal))
    return np.exp(signal / 3)  # positive, for every regression objective


def _train(params: dict[str, Any], kind: str, rounds: int = 30, nan: bool = True) -> lgb.Booster:
    X = _data(1_500, seed=0, nan=nan)
    data = lgb.Dataset(X, _target(X, kind), categorical_feature=[4, 5])
    settings = {"verbose": -1, "num_leaves": 15, "min_data_in_leaf": 5, **params}
    return lgb.train(settings, data, num_boost_round=rounds)


def _awkward(n: int) -> np.ndarray:
    """Rows LightGBM treats specially: NaN, zeros, tiny numbers, infinities, odd categories."""
    X = _data(n, seed=7)
    specials = [np.nan, 0.0, -0.0, 1e-36, -1e-36, 1e-35, np.inf, -np.inf, 1e300, -1e300]
    for j in range(4):
        X[j::23, j] = specials[j % len(specials)]
        X[j + 5 :: 29, j] = specials[(j + 5) % len(specials)]
    categories = [np.nan, -1.0, -0.5, 2.7, 1e10, 3e9, 39.0, 40.0, 1000.0, -1e300, np.inf]
    for k, value in enumerate(categories):
        X[k::31, 4] = value
        X[k + 3 :: 37, 5] = value
    return X


OBJECTIVES = {
    "binary": ({"objective": "binary"}, "class"),
    "binary, sigmoid 0.7": ({"objective": "binary", "sigmoid": 0.7}, "class"),
    "multiclass": ({"objective": "multiclass", "num_class": 3}, "classes"),
    "multiclassova": ({"objective": "multiclassova", "num_class": 3}, "classes"),
    "cross_entropy": ({"objective": "cross_entropy"}, "share"),
    "cross_entropy_lambda": ({"objective": "cross_entropy_lambda"}, "share"),
    "regression": ({"objective": "regression"}, "amount"),
    "regression, sqrt": ({"objective": "regression", "reg_sqrt": True}, "amount"),
    "l1": ({"objective": "regression_l1"}, "amount"),
    "huber": ({"objective": "huber"}, "amount"),
    "quantile": ({"objective": "quantile", "alpha": 0.8}, "amount"),
    "poisson": ({"objective": "poisson"}, "amount"),
    "gamma": ({"objective": "gamma"}, "amount"),
    "tweedie": ({"objective": "tweedie"}, "amount"),
    "random forest": (
        {"objective": "regression", "boosting": "rf", "bagging_freq": 1, "bagging_fraction": 0.7},
        "amount",
    ),
}


@pytest.mark.parametrize("name", list(OBJECTIVES))
def test_tables_give_booster_predict_for_every_objective(name: str) -> None:
    params, kind = OBJECTIVES[name]
    booster = _train(params, kind)
    tables = build_tables(model_text(booster))
    X = _awkward(1_000)
    raw = tables.raw_scores(X)
    expected_raw = booster.predict(X, raw_score=True).reshape(len(X), -1)
    np.testing.assert_array_equal(raw, expected_raw)  # the same sums, bit for bit
    got = tables.transform(raw)
    expected = booster.predict(X).reshape(len(X), -1)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    serving = TableScorer(build_tables(model_text(booster)))  # records one by one, as served
    for i in range(0, len(X), 37):
        one = serving.score(X[i : i + 1]).reshape(1, -1)
        np.testing.assert_allclose(one, expected[i : i + 1], rtol=1e-12, atol=1e-15)
    few = serving.score(X[:5])
    np.testing.assert_allclose(few.reshape(5, -1), expected[:5], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    "params",
    [
        {"zero_as_missing": True},  # missing type Zero: zeros and NaN go the default way
        {"use_missing": False},  # missing type None: NaN is read as 0.0
        {},  # missing type NaN where training saw NaN
    ],
    ids=["zero as missing", "no missing", "nan as missing"],
)
def test_missing_values_follow_lightgbm_for_each_missing_type(params: dict[str, Any]) -> None:
    booster = _train({"objective": "binary", **params}, "class")
    X = _awkward(2_000)
    raw = build_tables(model_text(booster)).raw_scores(X)
    np.testing.assert_array_equal(raw[:, 0], booster.predict(X, raw_score=True))


def test_trees_of_up_to_64_leaves_use_wide_masks_and_wider_ones_are_refused() -> None:
    wide = _train({"objective": "regression", "num_leaves": 60, "min_data_in_leaf": 2}, "amount")
    tables = build_tables(model_text(wide))
    assert tables.table.dtype == np.uint64
    X = _awkward(700)
    np.testing.assert_array_equal(tables.raw_scores(X)[:, 0], wide.predict(X, raw_score=True))
    wider = _train({"objective": "regression", "num_leaves": 100, "min_data_in_leaf": 2}, "amount")
    with pytest.raises(UnsupportedModel, match="leaves"):
        build_tables(model_text(wider))


def test_linear_trees_and_texts_that_are_not_models_are_refused() -> None:
    linear = _train({"objective": "regression", "linear_tree": True}, "amount", nan=False)
    with pytest.raises(UnsupportedModel, match="linear trees"):
        build_tables(model_text(linear))
    with pytest.raises(UnsupportedModel, match="not a LightGBM model"):
        build_tables("hello")


def test_single_leaf_trees_blocks_and_row_ranges() -> None:
    # min_data_in_leaf above the rows: every tree is a single leaf
    stump = _train({"objective": "regression", "min_data_in_leaf": 5_000}, "amount", rounds=3)
    X = _data(10, seed=3)
    np.testing.assert_array_equal(
        build_tables(model_text(stump)).raw_scores(X)[:, 0], stump.predict(X, raw_score=True)
    )
    booster = _train({"objective": "multiclass", "num_class": 3}, "classes")
    tables = build_tables(model_text(booster))
    X = _awkward(3 * BLOCK + 5)  # a partial last block
    expected = booster.predict(X, raw_score=True)
    np.testing.assert_array_equal(tables.raw_scores(X), expected)
    np.testing.assert_array_equal(tables.raw_scores(X, 70, 140), expected[70:140])
    assert tables.raw_scores(X, 5, 5).shape == (0, 3)


def test_compiled_trees_score_through_the_tables_on_every_thread(
    caplog: pytest.LogCaptureFixture,
) -> None:
    booster = _train({"objective": "multiclass", "num_class": 3}, "classes")
    X = _awkward(20_011)
    expected = booster.predict(X)
    for threads in (1, 2, 3):
        trees = CompiledTrees(booster, threads=threads, build=False)
        with caplog.at_level(logging.INFO, logger="loopml.serve._compiled_trees"):
            got = trees.score(X)
        assert trees.kind == "tables" and trees.compiled
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    assert "bit-vector tables" in caplog.text
    assert trees.score(X[:0]).shape == (0, 3)


def test_tables_that_disagree_with_lightgbm_are_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    booster = _train({"objective": "binary"}, "class")
    trees = CompiledTrees(booster, threads=2, build=False)
    tables = trees._tables
    assert tables is not None
    tables.leaf_values[3] += 1.0  # a wrong leaf: the check must catch it
    X = _awkward(600)
    with caplog.at_level(logging.WARNING, logger="loopml.serve._compiled_trees"):
        got = trees.score(X)
    assert trees.kind == "lightgbm"
    np.testing.assert_array_equal(got, booster.predict(X))
    assert "tables disagree with LightGBM" in caplog.text


def test_a_model_the_tables_cannot_hold_goes_to_machine_code(
    caplog: pytest.LogCaptureFixture,
) -> None:
    wider = _train({"objective": "binary", "num_leaves": 100, "min_data_in_leaf": 2}, "class")
    with caplog.at_level(logging.INFO, logger="loopml.serve._compiled_trees"):
        trees = CompiledTrees(wider, build=False)
    assert "no tables for them" in caplog.text
    X = _data(300, seed=4)
    np.testing.assert_array_equal(trees.score(X), wider.predict(X))
    assert trees.kind == "lightgbm"  # no machine code built here (build=False)


def test_tables_whose_kernel_cannot_run_leave_scoring_to_lightgbm(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """numba raises when it can neither compile the kernel nor find a folder to cache it in."""
    import loopml.serve._tree_tables as tree_tables

    def broken(*args: Any) -> None:
        raise RuntimeError("cannot cache function '_score_rows': no locator available")

    monkeypatch.setattr(tree_tables, "_score_rows", broken)
    booster = _train({"objective": "binary"}, "class")
    with caplog.at_level(logging.WARNING, logger="loopml.serve._compiled_trees"):
        trees = CompiledTrees(booster, build=False)
    assert "cannot run here" in caplog.text and "no locator" in caplog.text
    X = _data(200, seed=5)
    np.testing.assert_array_equal(trees.score(X), booster.predict(X))
    assert trees.kind == "lightgbm"
