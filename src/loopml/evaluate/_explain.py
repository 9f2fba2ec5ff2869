"""Explanations from SHAP: global mean |SHAP| per column, and local top contributions per row.

Global importance explains a sample of the evaluated rows, sized so the work is bounded: up to
:data:`MAX_SHAP_ROWS` rows, fewer for deep scikit-learn forests, whose TreeSHAP cost grows with
leaves x depth² per tree (the sample size used is stated in the result).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from loopml.errors import InvalidInputError
from loopml.evaluate._shap import explainer_kind, shap_values
from loopml.reports import to_jsonable
from loopml.train._bundle import ModelBundle

MAX_SHAP_ROWS = 1_000
MIN_SHAP_ROWS = 30
TREE_SHAP_BUDGET = 3e9
"""Total TreeSHAP work (rows x sum over trees of leaves x depth²) allowed for a forest: about
10 s on two busy cores."""


def shap_sample_size(bundle: ModelBundle, n_rows: int) -> int:
    """How many rows global SHAP explains for ``bundle`` (at most ``n_rows``)."""
    model = bundle.pipeline[-1] if hasattr(bundle.pipeline, "steps") else bundle.pipeline
    trees = getattr(model, "estimators_", None)
    limit = MAX_SHAP_ROWS
    if trees is not None and explainer_kind(bundle) == "tree":
        flat = np.ravel(np.asarray(trees, dtype=object))
        cost = sum(t.tree_.n_leaves * max(t.tree_.max_depth, 1) ** 2 for t in flat)
        limit = int(np.clip(TREE_SHAP_BUDGET // max(cost, 1), MIN_SHAP_ROWS, MAX_SHAP_ROWS))
    return min(n_rows, limit)


def shap_importance(bundle: ModelBundle, frame: pd.DataFrame, *, seed: int = 0) -> dict[str, Any]:
    """Mean |SHAP value| per original column on a sample of ``frame``, largest first.

    Returns ``{}`` for models without a fast exact SHAP path (see
    :func:`loopml.evaluate._shap.explainer_kind`). Keys: ``method``, ``units``, ``n_rows``
    (the sample size), ``features`` (``{name, mean_abs}``).
    """
    if explainer_kind(bundle) is None or frame.empty:
        return {}
    size = shap_sample_size(bundle, len(frame))
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(frame), size=size, replace=False))
    result = shap_values(bundle, frame.iloc[rows])
    if result is None:
        return {}
    magnitude = np.abs(result.values)
    if magnitude.ndim == 3:
        magnitude = magnitude.mean(axis=2)
    means = magnitude.mean(axis=0)
    order = np.argsort(-means, kind="stable")
    return {
        "method": result.method,
        "units": result.units,
        "n_rows": int(size),
        "features": [{"name": result.columns[i], "mean_abs": float(means[i])} for i in order],
    }


def _as_frame(rows: pd.DataFrame | Mapping[str, Any] | pd.Series) -> pd.DataFrame:
    if isinstance(rows, pd.DataFrame):
        return rows
    if isinstance(rows, pd.Series):
        return rows.to_frame().T.infer_objects()
    if isinstance(rows, Mapping):
        return pd.DataFrame([dict(rows)])
    raise InvalidInputError(
        f"Cannot explain a {type(rows).__name__}.",
        hint="Pass a DataFrame, a Series or a dict of column values.",
    )


def explain(
    bundle: ModelBundle,
    rows: pd.DataFrame | Mapping[str, Any] | pd.Series,
    *,
    top: int = 5,
    background: pd.DataFrame | None = None,
) -> list[list[dict[str, Any]]]:
    """The ``top`` largest contributions to each row's prediction, in the original columns.

    One list per row of ``rows`` (a DataFrame, or one row as a dict/Series), each of
    ``{column, value, contribution}`` sorted by decreasing ``|contribution|``. Contributions are
    SHAP values: toward the positive class (binary), toward the predicted class (multiclass),
    in prediction units (regression); in the model's margin (log-odds for LightGBM and linear
    classifiers, probability for scikit-learn forests).
    ``background`` is the reference data of linear models (tree models need none).

    Raises:
        InvalidInputError: ``top`` < 1, the model has no fast exact SHAP path, or a linear
            model is given neither a background nor two rows.
        DataError: a feature column is missing.
    """
    if top < 1:
        raise InvalidInputError(f"top must be at least 1; got {top}.")
    frame = _as_frame(rows)
    result = shap_values(bundle, frame, background)
    if result is None:
        raise InvalidInputError(
            f"A {bundle.family or type(bundle.pipeline).__name__} model has no fast SHAP "
            "explanation.",
            hint="Explanations are available for tree models (LightGBM, forests) and linear ones.",
        )
    values = result.values
    if values.ndim == 3:
        chosen = np.asarray(bundle.classes, dtype=object).tolist()
        predicted = bundle.predict_frame(frame)["prediction"].map(chosen.index).to_numpy()
        values = values[np.arange(len(frame)), :, predicted.astype(int)]
    out = []
    for r in range(len(frame)):
        order = np.argsort(-np.abs(values[r]), kind="stable")[:top]
        out.append(
            [
                {
                    "column": result.columns[i],
                    "value": to_jsonable(_scalar(frame.iloc[r][result.columns[i]])),
                    "contribution": float(values[r, i]),
                }
                for i in order
            ]
        )
    return out


def explain_row(
    bundle: ModelBundle,
    row: Mapping[str, Any] | pd.Series,
    *,
    top: int = 5,
    background: pd.DataFrame | None = None,
) -> list[dict[str, Any]]:
    """:func:`explain` for one row: its list of ``{column, value, contribution}``."""
    return explain(bundle, row, top=top, background=background)[0]


def _scalar(value: Any) -> Any:
    if pd.api.types.is_scalar(value) and pd.isna(value):
        return None
    return value.item() if isinstance(value, np.generic) else value
