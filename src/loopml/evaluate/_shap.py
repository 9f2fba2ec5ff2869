"""SHAP values of a model bundle, summed back to the original columns.

- Tree models (LightGBM, random forests, extra trees, other scikit-learn tree ensembles):
  ``shap.TreeExplainer`` with path-dependent perturbation (no background data needed).
- Linear models (logistic regression, ridge, any estimator with ``coef_``/``intercept_``):
  the exact linear SHAP values ``coef * (x - mean(background))`` in the model's margin
  (log-odds for classifiers), computed directly.
- Other families (k-NN, MLP, dummy) have no fast exact path: :func:`shap_values` returns None.

Contributions of the preprocessor's output features (one-hot fragments, missing indicators,
date parts) are summed into the input column they came from
(:func:`loopml.features.original_column_map`), so explanations speak the user's columns.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from loopml.errors import InvalidInputError
from loopml.features import output_sources
from loopml.train._bundle import ModelBundle

_TREE_MODULES = ("lightgbm", "sklearn.ensemble", "sklearn.tree", "xgboost")


@dataclass(frozen=True)
class ShapValues:
    """SHAP values per original column.

    ``values`` has shape ``(rows, columns)`` (binary: toward the positive class; regression), or
    ``(rows, columns, classes)`` (multiclass). ``units`` says what they add up to.
    """

    method: str
    columns: list[str]
    values: np.ndarray
    units: str


def _split(bundle: ModelBundle) -> tuple[Any, Any]:
    pipeline = bundle.pipeline
    steps = getattr(pipeline, "steps", None)
    if not steps or len(steps) < 2:
        return None, pipeline
    return pipeline[:-1], pipeline[-1]


def explainer_kind(bundle: ModelBundle) -> str | None:
    """``tree``, ``linear``, or None when the model has no fast exact SHAP path (or its inputs
    cannot be traced back to columns, e.g. after PCA)."""
    pre, model = _split(bundle)
    if pre is not None and output_sources(pre, bundle.feature_names) is None:
        return None
    module = type(model).__module__
    if module.startswith(_TREE_MODULES) and (
        hasattr(model, "estimators_") or hasattr(model, "booster_") or hasattr(model, "tree_")
    ):
        return "tree"
    if hasattr(model, "coef_") and hasattr(model, "intercept_"):
        return "linear"
    return None


def _column_matrix(bundle: ModelBundle, n_features: int) -> tuple[np.ndarray, list[str]]:
    """``M[f, c] = 1`` when output feature ``f`` comes from original column ``c``."""
    pre, _model = _split(bundle)
    names = bundle.feature_names
    sources = list(names) if pre is None else output_sources(pre, names)
    if sources is None or len(sources) != n_features:
        raise InvalidInputError(
            "The model's inputs cannot be mapped back to its columns.",
            hint="Build the pipeline with a ColumnTransformer as its first step.",
        )
    # Input columns in contract order, then derived features (columns of their own).
    columns = [c for c in names if c in set(sources)]
    columns += [s for s in dict.fromkeys(sources) if s not in set(columns)]
    index = {c: i for i, c in enumerate(columns)}
    matrix = np.zeros((n_features, len(columns)))
    matrix[np.arange(n_features), [index[s] for s in sources]] = 1.0
    return matrix, columns


def _dense(values: Any) -> np.ndarray:
    if sp.issparse(values):
        return np.asarray(values.toarray(), dtype=float)
    return np.asarray(values, dtype=float)


def _transform(bundle: ModelBundle, frame: pd.DataFrame) -> Any:
    pre, _model = _split(bundle)
    X = bundle.features(frame)
    return X if pre is None else pre.transform(X)


def _linear(bundle: ModelBundle, X: Any, background: Any) -> tuple[np.ndarray, str]:
    _pre, model = _split(bundle)
    x = _dense(X)
    mean = _dense(background).mean(axis=0)
    coef = np.atleast_2d(np.asarray(model.coef_, dtype=float))
    contributions = (x - mean)[:, :, None] * coef.T[None, :, :]  # rows, features, outputs
    if bundle.task == "multiclass":
        return contributions, "log-odds (softmax margin) of each class"
    values = contributions[:, :, 0]
    if bundle.task == "binary":
        positive = bundle.classes.index(bundle.positive_class)
        return (values if positive == 1 else -values), f"log-odds of {bundle.positive_class}"
    return values, "prediction units"


def _tree(bundle: ModelBundle, X: Any) -> tuple[np.ndarray, str]:
    import shap

    _pre, model = _split(bundle)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # shap's notices about output shapes and versions
        explainer = shap.TreeExplainer(model, feature_perturbation="tree_path_dependent")
        data = X if isinstance(X, pd.DataFrame) else _dense(X)
        raw = explainer.shap_values(data, check_additivity=False)
    values = np.stack(raw, axis=-1) if isinstance(raw, list) else np.asarray(raw, dtype=float)
    margin = type(model).__module__.startswith(("lightgbm", "xgboost"))
    scale = "log-odds" if margin else "probability"
    if bundle.task == "regression":
        return values.reshape(values.shape[0], values.shape[1]), "prediction units"
    if bundle.task == "multiclass":
        return values, f"{scale} of each class"
    positive = bundle.classes.index(bundle.positive_class)
    if values.ndim == 3:
        return values[:, :, positive], f"{scale} of {bundle.positive_class}"
    return (values if positive == 1 else -values), f"{scale} of {bundle.positive_class}"


def shap_values(
    bundle: ModelBundle, frame: pd.DataFrame, background: pd.DataFrame | None = None
) -> ShapValues | None:
    """SHAP values of ``frame``'s rows per original column, or None (no fast exact path).

    ``background`` (rows of typical data) sets the reference point of linear models; it
    defaults to ``frame`` itself when ``frame`` has at least two rows.

    Raises:
        InvalidInputError: a linear model with neither a background nor two rows to explain.
        DataError: a feature column is missing.
    """
    kind = explainer_kind(bundle)
    if kind is None:
        return None
    X = _transform(bundle, frame)
    if kind == "tree":
        values, units = _tree(bundle, X)
    else:
        if background is None and len(frame) < 2:
            raise InvalidInputError(
                "Explaining a linear model needs background rows to compare with.",
                hint="Pass background=<a sample of the training or holdout data>.",
            )
        reference = X if background is None else _transform(bundle, background)
        values, units = _linear(bundle, X, reference)
    matrix, columns = _column_matrix(bundle, values.shape[1])
    summed = np.einsum("rfk,fc->rck", values, matrix) if values.ndim == 3 else values @ matrix
    return ShapValues(kind, columns, summed, units)
