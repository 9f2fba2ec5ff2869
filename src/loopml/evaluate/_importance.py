"""Global feature importance in the user's original columns (permutation importance).

Each original input column is shuffled and the whole pipeline (preprocessing + estimator)
re-scored, so one-hot encoded or engineered features are explained as the column people know.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance

from loopml.evaluate._scored import Scored
from loopml.train._bundle import ModelBundle

MAX_IMPORTANCE_ROWS = 2_000
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
    """
    rng = np.random.default_rng(seed)
    n = len(frame)
    rows = np.sort(rng.choice(n, size=min(n, MAX_IMPORTANCE_ROWS), replace=False))
    X = bundle.features(frame).iloc[rows]
    y = scored.y[rows]
    scoring = _scoring(scored, y)
    if scoring is None:
        return {}
    # The pipeline predicts encoded labels 0..k-1 (ModelBundle's contract), as ``scored.y`` holds.
    result = permutation_importance(
        bundle.pipeline, X, y, scoring=scoring, n_repeats=N_REPEATS, random_state=seed
    )
    order = np.argsort(-result.importances_mean, kind="stable")
    features = [
        {
            "name": str(X.columns[i]),
            "mean": float(result.importances_mean[i]),
            "std": float(result.importances_std[i]),
        }
        for i in order
    ]
    return {
        "scoring": scoring,
        "measure": _MEASURES[scoring],
        "n_rows": len(rows),
        "n_repeats": N_REPEATS,
        "features": features,
    }
