"""Multivariate drift: can a classifier tell the current window from the reference?

A LightGBM model is trained to separate reference rows (label 0) from current rows (label 1);
its cross-validated ROC AUC is the statistic. Without drift the two samples are exchangeable
and the AUC stays near 0.5; a change in any feature, or in how features relate to each other
(which per-column tests cannot see), lets the classifier score above it. The window counts as
drifted when the AUC is at least ``threshold`` (0.55 by default). The features the classifier
leaned on most (share of split gain) say where the change is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from loopml.errors import InvalidInputError
from loopml.monitor._columns import check_frame

DEFAULT_THRESHOLD = 0.55
MAX_ROWS_PER_SIDE = 20_000
MIN_ROWS_PER_SIDE = 20
TOP_FEATURES = 5


def _encode(reference: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """Both sides stacked: numbers as floats, other columns as categories over both sides'
    values (so a category that appears only in the current window is a usable signal);
    datetime columns are left out."""
    both = pd.concat([reference, current], ignore_index=True)
    out: dict[str, Any] = {}
    for name in both.columns:
        column = both[name]
        if ptypes.is_datetime64_any_dtype(column.dtype):
            continue
        if ptypes.is_numeric_dtype(column.dtype) and not ptypes.is_bool_dtype(column.dtype):
            out[str(name)] = column.astype("float64")
        else:
            out[str(name)] = column.astype("string").astype("category")
    return pd.DataFrame(out, index=both.index)


def domain_classifier_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    folds: int = 5,
    max_rows: int = MAX_ROWS_PER_SIDE,
    seed: int = 0,
) -> dict[str, Any]:
    """Cross-validated AUC of a classifier telling ``current`` rows from ``reference`` rows.

    Each side is sampled down to ``max_rows`` rows (seeded). ``columns`` default to the columns
    both frames share; datetime columns are left out.

    Returns:
        ``{"method": "domain_classifier", "statistic": auc, "threshold", "drifted",
        "n_reference", "n_current", "top_features": {column: share of gain}}``.

    Raises:
        DataError: a frame is empty or has duplicated columns.
        InvalidInputError: no shared column, fewer than 20 rows on a side, or a threshold
            outside (0.5, 1).
    """
    check_frame(reference, "reference")
    check_frame(current, "current")
    if not 0.5 < threshold < 1:
        raise InvalidInputError(
            f"The domain-classifier threshold must be in (0.5, 1); got {threshold!r}.",
            hint="0.55 flags a window a classifier can tell from the reference a little.",
        )
    names = [str(c) for c in (columns or reference.columns) if c in current.columns]
    if not names:
        raise InvalidInputError(
            "The reference and current data share no column to compare.",
            hint="Compare data with the same columns.",
        )
    n_small = min(len(reference), len(current))
    if n_small < MIN_ROWS_PER_SIDE:
        raise InvalidInputError(
            f"Multivariate drift needs at least {MIN_ROWS_PER_SIDE} rows on each side; "
            f"got {n_small}.",
            hint="Use a longer window.",
        )
    ref = reference[names].sample(n=min(len(reference), max_rows), random_state=seed)
    cur = current[names].sample(n=min(len(current), max_rows), random_state=seed)
    features = _encode(ref, cur)
    target = np.r_[np.zeros(len(ref), dtype=np.int64), np.ones(len(cur), dtype=np.int64)]
    scores = np.zeros(target.size, dtype=np.float64)
    gain = np.zeros(features.shape[1], dtype=np.float64)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(features, target):
        model = lgb.LGBMClassifier(
            n_estimators=100,
            learning_rate=0.1,
            num_leaves=15,
            min_child_samples=20,
            subsample=0.8,
            subsample_freq=1,
            importance_type="gain",
            random_state=seed,
            n_jobs=1,
            verbose=-1,
        )
        model.fit(features.iloc[train], target[train])
        scores[test] = np.asarray(model.predict_proba(features.iloc[test]))[:, 1]
        gain += model.feature_importances_
    auc = float(roc_auc_score(target, scores))
    shares = gain / gain.sum() if gain.sum() > 0 else gain
    top = np.argsort(-shares, kind="stable")[:TOP_FEATURES]
    return {
        "method": "domain_classifier",
        "statistic": auc,
        "threshold": threshold,
        "drifted": auc >= threshold,
        "n_reference": len(ref),
        "n_current": len(cur),
        "top_features": {str(features.columns[i]): float(shares[i]) for i in top if shares[i] > 0},
    }
