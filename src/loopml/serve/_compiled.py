"""A fitted model compiled to numpy: validated request values straight to scores, no DataFrame.

:func:`compile_scores` walks the fitted model — a ``Pipeline`` of a ``ColumnTransformer`` (see
:mod:`loopml.serve._compiled_blocks`) and a final estimator, a calibrated binary model, or a
blend of such pipelines — and returns a function from validated values to class probabilities
(classifiers) or predictions (regressors). The final estimator is called directly on a float64
matrix: LightGBM through its ``Booster`` (one thread for small requests, where thread start-up
costs more than the trees), linear models, perceptrons and standardised targets through
scikit-learn's arithmetic without its checks (:mod:`loopml.serve._compiled_estimators`), other
scikit-learn estimators through ``predict_proba``/``predict`` on a copy without feature names
(so no per-call warning).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.decomposition import PCA
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.pipeline import Pipeline

from loopml.data._contract import ColumnSpec
from loopml.features._selection import FeatureSelector
from loopml.serve._compiled_blocks import (
    Block,
    NotCompilableError,
    Rows,
    compile_block,
    numbers,
    numeric_step,
)
from loopml.serve._compiled_estimators import estimator_scores, standardised_target
from loopml.serve._compiled_lightgbm import BoosterScorer
from loopml.serve._compiled_trees import (
    CompiledTrees,
    TableScorer,
    compile_trees_enabled,
    tables_for,
)
from loopml.train._decision import CalibratedModel
from loopml.train._ensemble import BlendedClassifier, BlendedRegressor

ScoreFn = Callable[[Rows, int], np.ndarray]
"""Validated values (or a frame) and the record count -> ``(n, n_classes)`` probabilities or
``(n,)`` values."""

SMALL_REQUEST = 64
"""Requests of at most this many records are scored on one thread."""

__all__ = ["SMALL_REQUEST", "NotCompilableError", "ScoreFn", "compile_scores"]


def compile_scores(
    model: Any, specs: list[ColumnSpec], classifier: bool, *, batch: bool = False
) -> ScoreFn:
    """The numpy scoring function of a fitted ``model`` reading the contract columns ``specs``.

    LightGBM trees score through their bit-vector tables where the layout holds them
    (:class:`~loopml.serve._compiled_trees.TableScorer`), else through LightGBM's single-row API.
    ``batch`` tunes it for large inputs: every call may use every core, and the trees score
    through :class:`~loopml.serve._compiled_trees.CompiledTrees` (tables, or machine code built
    in the background).

    Raises:
        NotCompilableError: a step or estimator the compiler does not understand (named).
    """
    if isinstance(model, CalibratedModel):
        inner = compile_scores(model.model, specs, classifier, batch=batch)
        calibrator, positive = model.calibrator, model.positive_index

        def calibrated(values: Rows, n: int) -> np.ndarray:
            raw = inner(values, n)[:, positive]
            p = calibrator.transform(raw)
            out = np.empty((len(p), 2))
            out[:, positive], out[:, 1 - positive] = p, 1 - p
            return out

        return calibrated
    if isinstance(model, BlendedClassifier | BlendedRegressor):
        members = [compile_scores(m, specs, classifier, batch=batch) for m in model.members]
        weights = list(model.weights)

        def blended(values: Rows, n: int) -> np.ndarray:
            return np.asarray(sum(w * m(values, n) for m, w in zip(members, weights, strict=True)))

        return blended
    if not isinstance(model, Pipeline):
        raise NotCompilableError(f"model {type(model).__name__} (not a Pipeline)")
    steps = [(name, step) for name, step in model.steps if step not in (None, "passthrough")]
    *transforms, (_, estimator) = steps
    by_name = {spec.name: spec for spec in specs}
    categories: list[tuple[int, list[Any]]]
    if not transforms:
        matrix, categories = _raw_numbers(estimator, by_name), []
    elif isinstance(transforms[0][1], ColumnTransformer):
        matrix, categories = _column_transformer(transforms[0][1], by_name)
        for name, step in transforms[1:]:
            matrix, categories = _after(matrix, categories, name, step)
    else:
        name, step = transforms[0]
        raise NotCompilableError(f"step {name!r} ({type(step).__name__}) before the preprocessor")
    predict = _estimator(estimator, categories, classifier, batch)

    def scores(values: Rows, n: int) -> np.ndarray:
        return predict(matrix(values, n), n)

    return scores


Matrix = Callable[[Rows, int], np.ndarray]


def _raw_numbers(estimator: Any, specs: dict[str, ColumnSpec]) -> Matrix:
    """An estimator fitted on the raw feature frame: every column must be numeric."""
    columns = [str(c) for c in getattr(estimator, "feature_names_in_", [])]
    if not columns or any(c not in specs for c in columns):
        raise NotCompilableError(f"{type(estimator).__name__} without a preprocessor")
    if any(specs[c].dtype not in ("integer", "float") for c in columns):
        raise NotCompilableError("non-numeric columns given to the estimator as they are")
    return lambda values, n: numbers(values, columns, n)


def _column_transformer(
    transformer: ColumnTransformer, specs: dict[str, ColumnSpec]
) -> tuple[Matrix, list[tuple[int, list[Any]]]]:
    names_in = [str(c) for c in getattr(transformer, "feature_names_in_", [])]
    blocks: list[tuple[slice, Block]] = []
    categories: list[tuple[int, list[Any]]] = []
    at = 0
    for name, fitted, selection in transformer.transformers_:
        columns = _selected(selection, names_in)
        if fitted == "drop" or not columns:
            continue
        unknown = [c for c in columns if c not in specs]
        if unknown:
            raise NotCompilableError(f"transformer {name!r} reads non-contract columns {unknown}")
        try:
            block = compile_block(fitted, columns, specs)
        except NotCompilableError as exc:
            raise NotCompilableError(f"transformer {name!r}: {exc}") from None
        categories.extend((at + k, cats) for k, cats in block.category_columns)
        blocks.append((slice(at, at + block.width), block))
        at += block.width
    width = at

    def matrix(values: Rows, n: int) -> np.ndarray:
        out = np.empty((n, width), dtype=np.float64)
        if isinstance(values, pd.DataFrame):
            for cut, block in blocks:
                block.fill_frame(values, out[:, cut])
        else:
            for cut, block in blocks:
                block.fill(values, n, out[:, cut])
        return out

    return matrix, categories


def _after(
    matrix: Matrix, categories: list[tuple[int, list[Any]]], name: str, step: Any
) -> tuple[Matrix, list[tuple[int, list[Any]]]]:
    """Chain a step that follows the ColumnTransformer: feature selection (a column subset),
    a scaler, or PCA (numeric outputs only)."""
    if isinstance(step, FeatureSelector):
        if step.feature_names_in_ is None:
            return matrix, categories
        kept = np.flatnonzero(step.support_)
        position = {int(old): new for new, old in enumerate(kept)}
        moved = [(position[k], c) for k, c in categories if k in position]
        return (lambda values, n: matrix(values, n)[:, kept]), moved
    if categories:
        raise NotCompilableError(f"step {name!r} after pandas category columns")
    if isinstance(step, PCA):
        mean, components = step.mean_, step.components_
        scale = np.sqrt(step.explained_variance_) if step.whiten else None

        def project(values: Rows, n: int) -> np.ndarray:
            out = (matrix(values, n) - mean) @ components.T
            return out / scale if scale is not None else out

        return project, []
    replay = numeric_step(step, name)
    if replay is None:
        return matrix, categories
    return (lambda values, n: replay(matrix(values, n))), []


def _selected(selection: Any, names: list[str]) -> list[str]:
    if isinstance(selection, str):
        raise NotCompilableError(f"a single-column (1-D) selection {selection!r}")
    if isinstance(selection, slice):
        return names[selection]
    items = list(selection)
    if items and all(isinstance(i, bool | np.bool_) for i in items):
        return [n for n, keep in zip(names, items, strict=True) if keep]
    if items and all(isinstance(i, int | np.integer) for i in items):
        return [names[int(i)] for i in items]
    return [str(i) for i in items]


# -- final estimators ----------------------------------------------------------------------
Predict = Callable[[np.ndarray, int], np.ndarray]


def _estimator(
    estimator: Any, categories: list[tuple[int, list[Any]]], classifier: bool, batch: bool
) -> Predict:
    module = type(estimator).__module__
    if module.startswith("lightgbm"):
        return _lightgbm(estimator, categories, classifier, batch)
    if categories:
        raise NotCompilableError(
            f"pandas category inputs to {type(estimator).__name__} (only LightGBM reads them)"
        )
    if not isinstance(estimator, BaseEstimator):
        raise NotCompilableError(f"estimator {type(estimator).__name__}")
    if (direct := estimator_scores(estimator)) is not None:
        return lambda X, n: direct(X)
    if (
        isinstance(estimator, TransformedTargetRegressor)
        and getattr(estimator, "_training_dim", None) == 1
    ):
        inverse = standardised_target(estimator.transformer_)
        if inverse is not None:
            inner = _estimator(estimator.regressor_, categories, classifier, batch)
            return lambda X, n: inverse(inner(X, n))
    many = _unnamed(estimator, single_thread=False)
    few = many if batch else _unnamed(estimator, single_thread=True)
    trees = None if batch else _forest_trees(estimator, classifier)

    def predict(X: np.ndarray, n: int) -> np.ndarray:
        if n > SMALL_REQUEST:
            return np.asarray(many.predict_proba(X) if classifier else many.predict(X), dtype=float)
        if trees is not None and (out := trees(X)) is not None:
            return out
        return np.asarray(few.predict_proba(X) if classifier else few.predict(X), dtype=float)

    return predict


def _forest_trees(estimator: Any, classifier: bool) -> Callable[[np.ndarray], Any] | None:
    """A random or extra-trees forest's small requests, tree by tree through each tree's own
    (Cython) ``tree_.predict``: sklearn's forest spends tens of microseconds per tree on checks
    and bookkeeping, 17 ms a record for 200 deep trees. The sum runs in sklearn's order (its
    single-thread order) and is divided as sklearn divides it, so results are the same; a call
    returns None for rows sklearn would refuse (not finite as float32), which then go to sklearn.
    None for any other estimator (or several outputs)."""
    forests = (
        RandomForestClassifier,
        ExtraTreesClassifier,
        RandomForestRegressor,
        ExtraTreesRegressor,
    )
    if not isinstance(estimator, forests):
        return None
    if int(getattr(estimator, "n_outputs_", 0)) != 1:
        return None
    trees = [member.tree_ for member in estimator.estimators_]
    width = int(estimator.n_classes_) if classifier else 1

    def predict(X: np.ndarray) -> np.ndarray | None:
        rows = np.ascontiguousarray(X, dtype=np.float32)
        if not np.isfinite(rows).all():
            return None
        total = np.zeros((len(rows), width))
        for tree in trees:
            total += tree.predict(rows)[:, :width]
        total /= len(trees)
        return total if classifier else total[:, 0]

    return predict


def _unnamed(estimator: Any, *, single_thread: bool) -> Any:
    """A shallow copy reading plain arrays without a feature-name warning (fitted state shared)."""
    twin = copy.copy(estimator)
    if hasattr(twin, "feature_names_in_"):
        del twin.feature_names_in_
    if single_thread and getattr(twin, "n_jobs", None) not in (None, 1):
        twin.n_jobs = 1
    for attribute in ("regressor_", "estimator_", "estimator"):
        inner = getattr(twin, attribute, None)
        if isinstance(inner, BaseEstimator) and hasattr(inner, "feature_names_in_"):
            setattr(twin, attribute, _unnamed(inner, single_thread=single_thread))
    calibrated = getattr(twin, "calibrated_classifiers_", None)  # CalibratedClassifierCV
    if isinstance(calibrated, list):
        twin.calibrated_classifiers_ = [
            _unnamed(member, single_thread=single_thread) for member in calibrated
        ]
    return twin


def _lightgbm(
    estimator: Any, categories: list[tuple[int, list[Any]]], classifier: bool, batch: bool
) -> Predict:
    if callable(getattr(estimator, "objective", None)):
        raise NotCompilableError("LightGBM with a custom objective")
    booster = estimator.booster_
    fitted_categories = booster.pandas_categorical or []
    if [list(c) for _, c in categories] != [list(c) for c in fitted_categories]:
        raise NotCompilableError("LightGBM categories differing from the preprocessor's")
    two_classes = classifier and int(getattr(estimator, "n_classes_", 0)) == 2
    scorer: BoosterScorer | CompiledTrees | TableScorer
    if batch:
        scorer = CompiledTrees(booster, build=compile_trees_enabled())
    elif (tables := tables_for(booster)) is not None:
        scorer = TableScorer(tables)
    else:
        scorer = BoosterScorer(booster, int(booster.num_feature()), SMALL_REQUEST)

    def predict(X: np.ndarray, n: int) -> np.ndarray:
        raw = scorer.score(X)
        if two_classes:
            out = np.empty((len(raw), 2))
            out[:, 1] = raw
            np.subtract(1.0, raw, out=out[:, 0])
            return out
        return np.asarray(raw, dtype=float)

    return predict
