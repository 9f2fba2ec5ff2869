"""The charter's feature engineering, turned into the steps of each family's pipeline.

:func:`plan_features` reads the charter's ``features:`` section (:class:`FeaturesSpec`) against
the contract and the training rows once per training call: it checks the derived-feature
expressions and finds the high-cardinality columns. :func:`feature_steps` then gives a model
family its pipeline steps, in order:

1. ``derive`` (:class:`DerivedFeatures`): derived columns appended to the raw input;
2. ``preprocess``: the family's ColumnTransformer (see :mod:`loopml.features._preprocess`);
   with ``high_cardinality: target``, categorical columns with more distinct values than the
   one-hot limit are target encoded (scikit-learn's cross-fitted ``TargetEncoder``) by the
   ``scaled`` and ``ordinal`` styles; LightGBM keeps its native categories;
3. ``select`` (:class:`FeatureSelector`): feature selection by original column;
4. ``scale``: standardisation after selection (``scaled`` style with selection only, so that
   variance and correlation are judged before scaling);
5. ``pca``: scikit-learn's PCA after scaling, for the ``scaled`` families (linear, SVM, k-NN,
   MLP); tree families and boosters are given the columns themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

from loopml.charter._model import FeaturesSpec
from loopml.data._contract import DataContract
from loopml.features._derived import DerivedFeatures, DerivedSpec, check_derived
from loopml.features._preprocess import (
    MAX_CATEGORIES,
    Encoding,
    build_preprocessor,
    original_column_map,
    preprocess_style,
)
from loopml.features._selection import FeatureSelector


@dataclass(frozen=True)
class FeaturePlan:
    """Feature engineering for one training call (see the module docstring).

    Attributes:
        derived: ``(name, expression)`` of each derived feature, checked.
        target_encoded: categorical columns above the one-hot limit, target encoded.
        target_type: the task as the target encoder sees it.
        selection: ``none``, ``filter``, ``embedded`` or ``rfe``, and its settings.
        pca: components to keep (>= 1) or share of variance (< 1); None: no PCA.
        seed: random seed of encoders, selectors and PCA.
        notes: what the plan decided that a person should know.
    """

    derived: tuple[DerivedSpec, ...] = ()
    target_encoded: tuple[str, ...] = ()
    target_type: str = "auto"
    selection: str = "none"
    max_features: int | None = None
    variance_threshold: float = 0.0
    correlation_threshold: float = 0.95
    pca: float | None = None
    seed: int = 0
    notes: tuple[str, ...] = field(default=())

    def describe(self) -> dict[str, Any]:
        """The plan as JSON-able facts (logged with the run)."""
        return {
            "derived": {name: expr for name, expr in self.derived},
            "target_encoded": list(self.target_encoded),
            "selection": self.selection,
            "max_features": self.max_features,
            "pca": self.pca,
        }


def check_features(spec: FeaturesSpec, contract: DataContract) -> list[DerivedSpec]:
    """The charter's derived features, checked against ``contract``'s feature columns.

    Raises:
        InvalidInputError: an expression is invalid, unknown column or function, or a name
            clashes with a column (the message names the feature).
    """
    numeric = [c.name for c in contract.feature_columns if c.is_numeric]
    others = [c.name for c in contract.feature_columns if not c.is_numeric]
    derived = [(d.name, d.expr) for d in spec.derived]
    check_derived(derived, numeric, others)
    return derived


def plan_features(
    spec: FeaturesSpec | None,
    contract: DataContract,
    X: pd.DataFrame,
    *,
    task: str,
    seed: int = 0,
) -> FeaturePlan:
    """The feature plan of a training call on rows ``X`` (the contract's feature columns).

    ``spec`` None means the charter's defaults. ``task`` is ``binary``, ``multiclass`` or
    ``regression``.

    Raises:
        InvalidInputError: a derived feature is invalid (see :func:`check_features`).
    """
    spec = spec or FeaturesSpec()
    derived = check_features(spec, contract)
    target_encoded: list[str] = []
    if spec.high_cardinality == "target":
        categorical = [
            c.name
            for c in contract.feature_columns
            if c.role != "text" and not c.is_numeric and c.dtype != "datetime"
        ]
        target_encoded = [
            c for c in categorical if c in X.columns and X[c].nunique() > MAX_CATEGORIES
        ]
    notes = []
    if target_encoded:
        notes.append(
            f"Target-encoded {len(target_encoded)} high-cardinality column(s) "
            f"({', '.join(target_encoded)}) for linear, neighbour, MLP and forest models "
            "(cross-fitted); boosters keep native categories."
        )
    return FeaturePlan(
        derived=tuple(derived),
        target_encoded=tuple(target_encoded),
        target_type="continuous" if task == "regression" else task,
        selection=spec.selection.method,
        max_features=spec.selection.max_features,
        variance_threshold=spec.selection.variance_threshold,
        correlation_threshold=spec.selection.correlation_threshold,
        pca=spec.pca,
        seed=seed,
        notes=tuple(notes),
    )


def feature_steps(
    contract: DataContract,
    family: str,
    plan: FeaturePlan | None = None,
    *,
    category_codes: bool = False,
) -> list[tuple[str, Any]]:
    """The pipeline steps before ``family``'s estimator (see the module docstring).
    ``category_codes``: see :class:`~loopml.features._preprocess.Encoding`.

    Raises:
        InvalidInputError: ``family`` is unknown or can use none of the feature columns.
        DataError: the contract has no feature columns.
    """
    style = preprocess_style(family)
    if plan is None or style == "none":
        encoding = Encoding(category_codes=category_codes)
        return [("preprocess", build_preprocessor(contract, family, encoding))]
    selecting = plan.selection != "none"
    pca = plan.pca is not None and style == "scaled"
    has_text = any(c.role == "text" for c in contract.feature_columns)
    encoding = Encoding(
        derived=tuple(name for name, _ in plan.derived),
        target_encoded=plan.target_encoded,
        target_type=plan.target_type,
        scale=not (selecting and style == "scaled"),
        dense=(selecting or pca) and has_text,
        seed=plan.seed,
        category_codes=category_codes,
    )
    steps: list[tuple[str, Any]] = []
    if plan.derived:
        steps.append(("derive", DerivedFeatures(plan.derived)))
    steps.append(("preprocess", build_preprocessor(contract, family, encoding)))
    if selecting:
        sources = [*contract.feature_names, *encoding.derived]
        selector = FeatureSelector(
            method=plan.selection,  # type: ignore[arg-type]
            source_columns=sources,
            max_features=plan.max_features,
            variance_threshold=plan.variance_threshold,
            correlation_threshold=plan.correlation_threshold,
            linear=style == "scaled",
            seed=plan.seed,
        )
        steps.append(("select", selector))
        if style == "scaled":
            steps.append(("scale", StandardScaler()))
    if pca:
        assert plan.pca is not None
        components: float | int = int(plan.pca) if plan.pca >= 1 else float(plan.pca)
        solver = "auto" if isinstance(components, int) else "full"
        steps.append(
            ("pca", PCA(n_components=components, svd_solver=solver, random_state=plan.seed))
        )
    return steps


def selection_report(pipeline: Any) -> list[dict[str, Any]]:
    """What the fitted pipeline's feature selection dropped: ``{column, reason, score}`` each."""
    step = _step(pipeline, "select")
    return [] if step is None else list(getattr(step, "dropped_", []))


def pca_report(pipeline: Any) -> dict[str, Any] | None:
    """Components kept by the fitted pipeline's PCA and the share of variance they explain."""
    step = _step(pipeline, "pca")
    if step is None or not hasattr(step, "n_components_"):
        return None
    return {
        "components": int(step.n_components_),
        "explained_variance": float(step.explained_variance_ratio_.sum()),
    }


def output_sources(steps: Any, columns: Sequence[str]) -> list[str] | None:
    """The column each output feature of the fitted ``steps`` (a pipeline without its model)
    comes from, given its input ``columns``; None when a step mixes columns (PCA).

    Derived features count as columns of their own. Steps that keep the feature layout
    (cleaning, scaling) change nothing.
    """
    sources = list(columns)
    for _, step in getattr(steps, "steps", []):
        if isinstance(step, DerivedFeatures):
            sources = [*sources, *(name for name, _ in step.features)]
        elif isinstance(step, ColumnTransformer):
            sources = list(original_column_map(step).values())
        elif isinstance(step, FeatureSelector):
            sources = [s for s, keep in zip(sources, step.support_, strict=True) if keep]
        elif isinstance(step, PCA):
            return None
    return sources


def _step(pipeline: Any, name: str) -> Any:
    steps = getattr(pipeline, "named_steps", None)
    if steps is None:
        inner = getattr(pipeline, "estimator_", None) or getattr(pipeline, "model", None)
        return None if inner is None or inner is pipeline else _step(inner, name)
    return steps.get(name)
