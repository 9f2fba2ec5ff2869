"""Attribution drift: how each feature's share of the model's SHAP importance moved.

A feature's *share* is its mean |SHAP value| over a sample of rows divided by the sum over all
features, so the shares add up to 1 and compare across windows whose prediction scale differs.
The reference shares are computed once, on the training rows, and stored in the reference
profile; a monitor run computes the same on its window with the served model. A feature's
attribution drifted when its share moved by at least the threshold (absolute change); the
window's statistic is the total variation distance between the two share vectors (half the sum
of the absolute changes: 0 = same attribution, 1 = disjoint).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from loopml.evaluate._explain import shap_importance
from loopml.train._bundle import ModelBundle

SUPERVISED = ("binary", "multiclass", "regression")
ATTRIBUTION_THRESHOLD = 0.1
"""Absolute change of a feature's importance share that counts as attribution drift."""


def attribution_summary(
    bundle: ModelBundle, frame: pd.DataFrame, *, seed: int = 0
) -> dict[str, Any] | None:
    """Mean |SHAP| per feature and its share of the total, on a seeded sample of ``frame``.

    The sample holds at most 1,000 rows (fewer for deep forests; see
    :func:`loopml.evaluate._explain.shap_sample_size`); its size is ``n_rows``. Returns None for
    unsupervised models, models without a fast exact SHAP path, or when every attribution is
    zero.
    """
    if bundle.task not in SUPERVISED:
        return None  # clustering and anomaly scores have no SHAP attribution here
    importance = shap_importance(bundle, frame, seed=seed)
    if not importance:
        return None
    means = {f["name"]: float(f["mean_abs"]) for f in importance["features"]}
    total = float(sum(means.values()))
    if not np.isfinite(total) or total <= 0:
        return None
    return {
        "method": importance["method"],
        "units": importance["units"],
        "n_rows": importance["n_rows"],
        "mean_abs": means,
        "shares": {name: value / total for name, value in means.items()},
    }


def attribution_drift(
    reference: dict[str, Any],
    current: dict[str, Any],
    *,
    threshold: float = ATTRIBUTION_THRESHOLD,
) -> dict[str, Any]:
    """Per-feature change of importance share between two :func:`attribution_summary` results.

    Returns ``{"statistic" (total variation distance), "threshold", "drifted" (any feature),
    "drifted_features", "n_reference", "n_current", "method", "features": {name:
    {"reference_share", "current_share", "change", "drifted"}}}``, features by decreasing
    absolute change.
    """
    ref_shares: dict[str, float] = reference["shares"]
    cur_shares: dict[str, float] = current["shares"]
    names = list(dict.fromkeys([*ref_shares, *cur_shares]))
    rows = {}
    for name in names:
        before, after = float(ref_shares.get(name, 0.0)), float(cur_shares.get(name, 0.0))
        change = after - before
        rows[name] = {
            "reference_share": before,
            "current_share": after,
            "change": change,
            "drifted": bool(abs(change) >= threshold),
        }
    ordered = dict(sorted(rows.items(), key=lambda item: -abs(item[1]["change"])))
    drifted = [name for name, row in ordered.items() if row["drifted"]]
    return {
        "statistic": 0.5 * float(sum(abs(row["change"]) for row in rows.values())),
        "threshold": threshold,
        "drifted": bool(drifted),
        "drifted_features": drifted,
        "n_reference": reference["n_rows"],
        "n_current": current["n_rows"],
        "method": current["method"],
        "features": ordered,
    }
