"""LightGBM trees compiled to machine code: built once per model in the background, cached,
equal to ``Booster.predict``, and dropped when they disagree with it or do not fit the model."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest

from loopml.serve._compiled_trees import CompiledTrees, compile_trees_enabled
from loopml.serve._tree_compiler import build_library, library_path, model_text, start_build


def _data(n: int, seed: int) -> np.ndarray:
    """Numbers and small-integer categories, with missing values, unseen and negative codes."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    X[:, 4:] = rng.integers(0, 5, size=(n, 2))
    X[::9, 1] = np.nan
    X[::13, 4] = np.nan
    X[::17, 5] = 7  # a category never seen in training
    X[::19, 4] = -1  # negative codes read as missing
    return X


def _booster(objective: str, rounds: int = 40) -> lgb.Booster:
    X = _data(600, seed=0)
    X[:, 5] = np.clip(X[:, 5], 0, 4)
    signal = X[:, 0] + np.nan_to_num(X[:, 1]) * X[:, 2] + (X[:, 4] == 2)
    target = {
        "binary": (signal > 0).astype(int),
        "multiclass": np.digitize(signal, [-0.5, 0.5]),
        "regression": signal,
        "poisson": np.exp(signal / 3),
    }[objective]
    params = {"objective": objective, "verbose": -1, "num_leaves": 15, "min_data_in_leaf": 5}
    if objective == "multiclass":
        params["num_class"] = 3
    data = lgb.Dataset(X, target, categorical_feature=[4, 5])
    return lgb.train(params, data, num_boost_round=rounds)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LOOPML_CACHE_DIR", str(tmp_path))
    return tmp_path / "compiled-trees"


@pytest.mark.parametrize("objective", ["binary", "multiclass", "regression", "poisson"])
def test_compiled_trees_equal_booster_predict(cache: Path, objective: str) -> None:
    booster = _booster(objective)
    text = model_text(booster)
    model_file = cache / "model.txt"
    cache.mkdir(parents=True)
    model_file.write_text(text)
    build_library(model_file, library_path(text))
    trees = CompiledTrees(booster, threads=2, build=False, tables=False)
    X = _data(3_000, seed=1)
    got = trees.score(X)
    assert trees.compiled
    expected = booster.predict(X)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_the_library_is_built_in_the_background_once_and_then_used(cache: Path) -> None:
    booster = _booster("binary")
    trees = CompiledTrees(booster, threads=1, tables=False)  # starts the build
    X = _data(500, seed=2)
    np.testing.assert_array_equal(trees.score(X), booster.predict(X))  # LightGBM until built
    target = library_path(model_text(booster))
    assert not start_build(model_text(booster)), "a second build started beside the running one"
    deadline = time.monotonic() + 120
    while not target.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert target.exists(), (target.with_suffix(".log").read_text(), list(cache.iterdir()))
    np.testing.assert_allclose(trees.score(X), booster.predict(X), rtol=1e-12, atol=1e-12)
    assert trees.compiled
    deadline = time.monotonic() + 10
    while target.with_suffix(".lock").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sorted(p.suffix for p in cache.iterdir()) == [".log", ".o"]  # nothing else left
    assert not start_build(model_text(booster)), "a built library was built again"


def test_a_library_that_disagrees_with_lightgbm_is_dropped(
    cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    other, booster = _booster("binary", rounds=10), _booster("binary", rounds=40)
    cache.mkdir(parents=True)
    (cache / "other.txt").write_text(model_text(other))
    built = build_library(cache / "other.txt", library_path(model_text(other)))
    shutil.copy(built, library_path(model_text(booster)))  # the wrong model under this name
    trees = CompiledTrees(booster, threads=2, build=False, tables=False)
    X = _data(800, seed=3)
    with caplog.at_level(logging.WARNING):
        got = trees.score(X)
    assert not trees.compiled
    np.testing.assert_array_equal(got, booster.predict(X))
    assert "disagree with LightGBM" in caplog.text


@pytest.mark.parametrize("damage", ["foreign", "truncated", "altered"])
def test_a_broken_file_in_the_cache_is_reported_and_lightgbm_scores(
    cache: Path, caplog: pytest.LogCaptureFixture, damage: str
) -> None:
    """LLVM's loader would crash the process on such bytes: they never reach it."""
    booster = _booster("regression")
    text = model_text(booster)
    cache.mkdir(parents=True)
    (cache / "model.txt").write_text(text)
    target = build_library(cache / "model.txt", library_path(text))
    sealed = target.read_bytes()
    broken = {
        "foreign": b"not a library",
        "truncated": sealed[: len(sealed) // 2],
        "altered": sealed[:-64] + bytes(64),
    }[damage]
    target.write_bytes(broken)
    trees = CompiledTrees(booster, build=False, tables=False)
    X = _data(100, seed=4)
    with caplog.at_level(logging.WARNING):
        np.testing.assert_array_equal(trees.score(X), booster.predict(X))
    assert "cannot be used" in caplog.text and not trees.compiled
    reason = "not a compiled forest" if damage == "foreign" else "do not match their checksum"
    assert reason in caplog.text


def test_an_object_built_for_other_features_is_refused_before_it_runs(
    cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    booster = _booster("binary")
    narrow = lgb.train(
        {"objective": "binary", "verbose": -1},
        lgb.Dataset(_data(300, seed=8)[:, :3], (np.arange(300) % 2)),
        num_boost_round=5,
    )
    cache.mkdir(parents=True)
    (cache / "narrow.txt").write_text(model_text(narrow))
    built = build_library(cache / "narrow.txt", library_path(model_text(narrow)))
    shutil.copy(built, library_path(model_text(booster)))
    trees = CompiledTrees(booster, build=False, tables=False)
    X = _data(200, seed=9)
    with caplog.at_level(logging.WARNING):
        np.testing.assert_array_equal(trees.score(X), booster.predict(X))
    assert "takes 3 features" in caplog.text and not trees.compiled


def test_large_inputs_are_split_across_threads_with_the_same_results(cache: Path) -> None:
    booster = _booster("multiclass")
    text = model_text(booster)
    cache.mkdir(parents=True)
    (cache / "model.txt").write_text(text)
    build_library(cache / "model.txt", library_path(text))
    X = _data(20_001, seed=10)  # above the parallel threshold, not a multiple of the threads
    expected = booster.predict(X)
    for threads in (1, 2, 3):
        trees = CompiledTrees(booster, threads=threads, build=False, tables=False)
        np.testing.assert_allclose(trees.score(X), expected, rtol=1e-12, atol=1e-12)
        assert trees.compiled
    assert trees.score(X[:0]).shape == (0, 3)


def test_an_unwritable_cache_is_logged_and_lightgbm_scores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("LOOPML_CACHE_DIR", str(blocker))  # a file where the folder should be
    booster = _booster("binary")
    with caplog.at_level(logging.WARNING):
        trees = CompiledTrees(booster, tables=False)
    assert "cannot be compiled" in caplog.text
    X = _data(50, seed=5)
    np.testing.assert_array_equal(trees.score(X), booster.predict(X))


def test_the_cache_key_follows_the_model_and_the_switch_reads_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, b = _booster("binary", rounds=10), _booster("binary", rounds=11)
    assert library_path(model_text(a)) != library_path(model_text(b))
    assert library_path(model_text(a)) == library_path(model_text(a))
    for value, enabled in (("0", False), ("off", False), ("1", True), ("", True)):
        monkeypatch.setenv("LOOPML_COMPILE_TREES", value)
        assert compile_trees_enabled() is enabled


def test_a_lock_left_by_a_build_that_died_is_taken_over_and_a_live_one_is_not(
    cache: Path,
) -> None:
    booster = _booster("binary", rounds=5)
    text = model_text(booster)
    lock = library_path(text).with_suffix(".lock")
    cache.mkdir(parents=True)
    lock.write_text(str(os.getpid()))  # a build running in a live process
    assert not start_build(text)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock.write_text(str(dead.pid))  # a build whose process is gone
    assert start_build(text)
    deadline = time.monotonic() + 120
    while not library_path(text).exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert library_path(text).exists(), library_path(text).with_suffix(".log").read_text()
