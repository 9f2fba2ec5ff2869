"""Fitting pieces shared by the engine and the tuner: folds, predictions, latency."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from loopml.train._tuning import AfterFold, Evaluation

LATENCY_CALLS = 50


class StopFolds(Exception):
    """Raised by an ``after_fold`` hook to end cross-validation early (the folds so far count)."""


def predict_scores(model: Any, X: pd.DataFrame, n_classes: int) -> np.ndarray:
    """Probabilities over all ``n_classes`` (a fold may lack a class), or regression values."""
    if n_classes == 0:
        return np.asarray(model.predict(X), dtype=float)
    proba = np.zeros((len(X), n_classes))
    proba[:, np.asarray(model.classes_, dtype=int)] = model.predict_proba(X)
    return proba


def run_folds(
    pipeline: Any,
    X: pd.DataFrame,
    y: np.ndarray,
    folds: list[tuple[np.ndarray, np.ndarray]],
    n_classes: int,
    score: Callable[[np.ndarray, np.ndarray], float],
    after_fold: AfterFold,
) -> Evaluation:
    """Cross-validate an unfitted ``pipeline``; out-of-fold predictions are NaN where not made.

    ``after_fold`` may raise :class:`StopFolds` (keep the folds so far) or anything else
    (propagated, e.g. ``optuna.TrialPruned``).
    """
    oof = np.full((len(y), n_classes) if n_classes else len(y), np.nan)
    scores: list[float] = []
    started = time.perf_counter()
    for k, (train, valid) in enumerate(folds):
        model = clone(pipeline).fit(X.iloc[train], y[train])
        oof[valid] = predict_scores(model, X.iloc[valid], n_classes)
        scores.append(score(y[valid], oof[valid]))
        per_fold = (time.perf_counter() - started) / (k + 1)
        try:
            after_fold(k, scores, per_fold)
        except StopFolds:
            break
    return Evaluation(scores, oof, (time.perf_counter() - started) / len(scores))


def latency_ms(model: Any, row: pd.DataFrame, n_classes: int, cap: float) -> tuple[float, float]:
    """Median and 99th percentile (ms) of single-row predictions: up to 50 calls, ``cap`` s."""
    call = model.predict_proba if n_classes else model.predict
    call(row)  # warm-up: first calls pay one-off costs
    stop = time.perf_counter() + cap
    times = []
    for _ in range(LATENCY_CALLS):
        begin = time.perf_counter()
        call(row)
        times.append(time.perf_counter() - begin)
        if time.perf_counter() > stop:
            break
    values = np.asarray(times) * 1000.0
    return float(np.median(values)), float(np.percentile(values, 99))
