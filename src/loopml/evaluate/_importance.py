"""Global feature importance in the user's original columns (permutation importance).

Each original input column is shuffled and the whole pipeline (preprocessing + estimator)
re-scored, so one-hot encoded or engineered features are explained as the column people know.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from loopml.evaluate._scored import Scored
from loopml.train._bundle import ModelBundle

MAX_IMPORTANCE_ROWS = 2_000
MAX_STACKED_ROWS = 200_000
"""Most rows of shuffled copies scored in one prediction (bounds the memory used)."""
_MEASURES = {
    "neg_root_mean_squared_error": "Increase in RMSE when the column is shuffled",
    "roc_auc": "Drop in ROC AUC when the column is shuffled",
    "accuracy": "Drop in accuracy when the column is shuffled",
}
N_REPEATS = 5


def _scoring(scored: Scored, y: np.ndarray) -> str | None:
    """The scorer whose drop measures importance, or None if the sample cannot define one."""
    if scored.task == "regression":
        return "neg_root_mean_squared_error"
    if len(np.unique(y)) < 2:
        return None
    return "roc_auc" if scored.task == "binary" else "accuracy"


def permutation_importances(
    bundle: ModelBundle, frame: pd.DataFrame, scored: Scored, *, seed: int = 0
) -> dict[str, Any]:
    """Mean and std of the score drop when each feature column is permuted.

    Uses at most :data:`MAX_IMPORTANCE_ROWS` rows of ``frame`` (aligned with ``scored``). Returns
    ``{}`` when no score is defined on the sample (a single class). Features are sorted by
    decreasing importance; for regression the drop is in RMSE units.

    The measure is scikit-learn's ``permutation_importance`` (baseline score minus the score
    with one column shuffled, ``N_REPEATS`` shuffles per column), computed with the shuffled
    copies stacked into a few large predictions instead of one pipeline call per shuffle: a
    pipeline's per-call overhead, not its per-row cost, dominates on a few thousand rows.
    """
    rng = np.random.default_rng(seed)
    n = len(frame)
    rows = np.sort(rng.choice(n, size=min(n, MAX_IMPORTANCE_ROWS), replace=False))
    X = bundle.features(frame).iloc[rows].reset_index(drop=True)
    y = scored.y[rows]
    scoring = _scoring(scored, y)
    if scoring is None:
        return {}
    # The pipeline predicts encoded labels 0..k-1 (ModelBundle's contract), as ``scored.y`` holds.
    score = _scorer(bundle.pipeline, scoring)
    baseline = score(X, y)
    drops = _shuffled_scores(score, X, y, rng)
    drops = baseline - drops
    means, stds = drops.mean(axis=1), drops.std(axis=1)
    order = np.argsort(-means, kind="stable")
    features = [
        {"name": str(X.columns[i]), "mean": float(means[i]), "std": float(stds[i])} for i in order
    ]
    return {
        "scoring": scoring,
        "measure": _MEASURES[scoring],
        "n_rows": len(rows),
        "n_repeats": N_REPEATS,
        "features": features,
    }


def _scorer(pipeline: Any, scoring: str) -> Callable[[pd.DataFrame, np.ndarray], Any]:
    """Scores (greater is better) of ``pipeline`` on a frame holding ``k`` stacked copies of
    the rows whose labels are ``y``: an array of ``k`` scores, one per copy."""

    def score(X: pd.DataFrame, y: np.ndarray) -> Any:
        k = len(X) // len(y)
        if scoring == "roc_auc":
            positive = pipeline.predict_proba(X)[:, 1].reshape(k, len(y))
            return np.array([roc_auc_score(y, p) for p in positive])
        predicted = np.asarray(pipeline.predict(X)).reshape(k, len(y))
        if scoring == "accuracy":
            return (predicted == y).mean(axis=1)
        return -np.sqrt(((predicted - y) ** 2).mean(axis=1))

    return score


def _shuffled_scores(
    score: Callable[[pd.DataFrame, np.ndarray], Any],
    X: pd.DataFrame,
    y: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Scores with each column shuffled, shape ``(n_columns, N_REPEATS)``; the shuffled copies
    are predicted in batches of at most :data:`MAX_STACKED_ROWS` rows."""
    n = len(X)
    shuffles = [(j, rng.permutation(n)) for j in range(X.shape[1]) for _ in range(N_REPEATS)]
    per_batch = max(1, MAX_STACKED_ROWS // n)
    scores: list[float] = []
    for start in range(0, len(shuffles), per_batch):
        copies = []
        for j, order in shuffles[start : start + per_batch]:
            copy = X.copy()
            copy.isetitem(j, X.iloc[order, j].to_numpy())
            copies.append(copy)
        scores.extend(np.atleast_1d(score(pd.concat(copies, ignore_index=True), y)).tolist())
    return np.asarray(scores).reshape(X.shape[1], N_REPEATS)
