"""Feature selection after preprocessing, decided per original column.

:class:`FeatureSelector` sits between the preprocessor and the model. It keeps or drops whole
*original columns* (a one-hot encoded column, the parts of a date, a column and its missing
indicator go together), so what it reports reads in the user's terms. Methods:

- ``filter``: columns whose every feature has variance at most ``variance_threshold``
  (constant ones by default); then, of each pair of numeric features correlated above
  ``correlation_threshold``, the later column; then, beyond ``max_features`` columns, those
  with the lowest mutual information with the target (scikit-learn's estimators).
- ``embedded``: scikit-learn's ``SelectFromModel`` with an L1-penalised linear model (inputs
  standardised) or LightGBM gain importance; a column is dropped when none of its features is
  selected, and beyond ``max_features`` the least important columns go.
- ``rfe``: recursive elimination of columns with a cheap model (ridge or a small LightGBM),
  scored by 3-fold cross-validation at every size; the best size (the smaller on ties, at most
  ``max_features``) is kept.

What was dropped is in ``dropped_``: ``{"column", "reason", "score"}`` per column. Selection
needs named features (a DataFrame): sparse text features are not selected from (every feature is
kept and ``note_`` says so).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier, LGBMRegressor
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_selection import SelectFromModel, mutual_info_classif, mutual_info_regression
from sklearn.linear_model import LassoCV, LogisticRegression, Ridge, RidgeClassifier
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted

SelectionMethod = Literal["filter", "embedded", "rfe"]
RFE_FOLDS = 3
RFE_STEP_SHARE = 0.1
"""With more than 20 columns, recursive elimination drops this share of them per round."""


def _source(feature: str, sources: Sequence[str]) -> str:
    """The original column of an output feature ``<transformer>__<inner>`` (longest match)."""
    inner = feature.split("__", 1)[-1]
    if inner.startswith("missingindicator_"):
        inner = inner[len("missingindicator_") :]
    matches = [s for s in sources if inner == s or inner.startswith(f"{s}_")]
    return max(matches, key=len) if matches else feature


class FeatureSelector(TransformerMixin, BaseEstimator):
    """Keep the most useful original columns of a preprocessed frame (see the module docstring).

    Args:
        method: ``filter``, ``embedded`` or ``rfe``.
        source_columns: the original column names the features derive from.
        max_features: at most this many original columns are kept (None: no limit).
        variance_threshold: ``filter`` drops columns whose features' variance is at most this.
        correlation_threshold: ``filter`` drops the later of two numeric features correlated
            above this (absolute Pearson correlation).
        linear: use linear models (``embedded``, ``rfe``) instead of LightGBM.
        seed: random seed of the estimators.
    """

    def __init__(
        self,
        method: SelectionMethod = "filter",
        source_columns: Sequence[str] = (),
        max_features: int | None = None,
        variance_threshold: float = 0.0,
        correlation_threshold: float = 0.95,
        linear: bool = False,
        seed: int = 0,
    ) -> None:
        self.method = method
        self.source_columns = source_columns
        self.max_features = max_features
        self.variance_threshold = variance_threshold
        self.correlation_threshold = correlation_threshold
        self.linear = linear
        self.seed = seed

    # -- fitting -------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any) -> FeatureSelector:
        self.note_ = ""
        self.dropped_: list[dict[str, Any]] = []
        if not isinstance(X, pd.DataFrame):
            self.n_features_in_ = X.shape[1]
            self.support_ = np.ones(X.shape[1], dtype=bool)
            self.feature_names_in_ = None
            self.note_ = "Feature selection was not applied: the features include sparse text."
            return self
        self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        self.n_features_in_ = X.shape[1]
        sources = [str(s) for s in self.source_columns]
        groups: dict[str, list[int]] = {}
        for i, name in enumerate(self.feature_names_in_):
            groups.setdefault(_source(name, sources), []).append(i)
        self._y = np.asarray(y)
        self._classification = type_of_target(self._y) in ("binary", "multiclass")
        kept = dict(groups)
        if self.method == "filter":
            self._filter(X, kept)
        elif self.method == "embedded":
            self._embedded(X, kept)
        elif self.method == "rfe":
            self._rfe(X, kept)
        else:
            raise ValueError(f"Unknown selection method {self.method!r}.")
        support = np.zeros(X.shape[1], dtype=bool)
        for indexes in kept.values():
            support[indexes] = True
        self.support_ = support
        del self._y
        return self

    def _drop(self, kept: dict[str, list[int]], column: str, reason: str, score: float) -> None:
        del kept[column]
        value = float(score) if math.isfinite(score) else None
        self.dropped_.append({"column": column, "reason": reason, "score": value})

    def _filter(self, X: pd.DataFrame, kept: dict[str, list[int]]) -> None:
        numbers = _numeric(X)
        variance = np.nan_to_num(np.nanvar(numbers, axis=0), nan=0.0)
        for column, indexes in list(kept.items()):
            if len(kept) > 1 and variance[indexes].max() <= self.variance_threshold:
                self._drop(kept, column, "variance at most the threshold", variance[indexes].max())
        continuous = [
            i
            for indexes in kept.values()
            for i in indexes
            if not isinstance(X.dtypes.iloc[i], pd.CategoricalDtype)
        ]
        if len(continuous) > 1:
            self._decorrelate(numbers, continuous, kept)
        if self.max_features is not None and len(kept) > self.max_features:
            information = self._mutual_information(X, numbers)
            ranked = sorted(kept, key=lambda c: information[kept[c]].sum())
            for column in ranked[: len(kept) - self.max_features]:
                score = information[kept[column]].sum()
                self._drop(kept, column, "low mutual information with the target", score)

    def _decorrelate(
        self, numbers: np.ndarray, features: list[int], kept: dict[str, list[int]]
    ) -> None:
        filled = _filled(numbers[:, features])
        with np.errstate(all="ignore"):
            corr = np.abs(np.corrcoef(filled, rowvar=False))
        corr = np.nan_to_num(corr, nan=0.0)
        owner = {i: c for c, indexes in kept.items() for i in indexes}
        redundant: dict[int, tuple[float, str]] = {}
        for a in range(len(features)):
            if features[a] in redundant:
                continue
            for b in range(a + 1, len(features)):
                fa, fb = features[a], features[b]
                if owner[fa] != owner[fb] and corr[a, b] > self.correlation_threshold:
                    redundant.setdefault(fb, (corr[a, b], owner[fa]))
        for column, indexes in list(kept.items()):
            if len(kept) > 1 and indexes and all(i in redundant for i in indexes):
                score, other = max(redundant[i] for i in indexes)
                reason = f"correlated with {other!r} above {self.correlation_threshold:g}"
                self._drop(kept, column, reason, score)

    def _mutual_information(self, X: pd.DataFrame, numbers: np.ndarray) -> np.ndarray:
        discrete = np.asarray([isinstance(t, pd.CategoricalDtype) for t in X.dtypes])
        filled = _filled(numbers)
        if self._classification:
            return mutual_info_classif(
                filled, self._y, discrete_features=discrete, random_state=self.seed
            )
        return mutual_info_regression(
            filled, self._y, discrete_features=discrete, random_state=self.seed
        )

    def _estimator(self, l1: bool) -> Any:
        if not self.linear:
            options: dict[str, Any] = {
                "n_estimators": 50,
                "num_leaves": 15,
                "verbose": -1,
                "n_jobs": 1,
                "random_state": self.seed,
            }
            cls = LGBMClassifier if self._classification else LGBMRegressor
            return cls(importance_type="gain", **options)
        if self._classification:
            if l1:
                solver = "liblinear" if len(np.unique(self._y)) == 2 else "saga"
                model = LogisticRegression(l1_ratio=1.0, C=1.0, solver=solver, max_iter=2000)
            else:  # ranking columns needs a cheap fit: ridge has a closed form
                model = RidgeClassifier(alpha=1.0)
        else:
            model = LassoCV(cv=3, random_state=self.seed) if l1 else Ridge(alpha=1.0)
        return make_pipeline(StandardScaler(), model)

    def _inputs(self, X: pd.DataFrame, numbers: np.ndarray) -> Any:
        return _filled(numbers) if self.linear else X

    def _embedded(self, X: pd.DataFrame, kept: dict[str, list[int]]) -> None:
        numbers = _numeric(X)
        estimator = self._estimator(l1=True)
        getter = f"named_steps.{estimator.steps[-1][0]}.coef_" if self.linear else "auto"
        selector = SelectFromModel(estimator, importance_getter=getter)
        selector.fit(self._inputs(X, numbers), self._y)
        importance = _importances(selector)
        support = selector.get_support()
        what = "L1 coefficient zero" if self.linear else "tree importance below the mean"
        for column, indexes in list(kept.items()):
            if len(kept) > 1 and not support[indexes].any():
                self._drop(kept, column, what, importance[indexes].sum())
        self._cap(kept, importance, "less important than the kept columns")

    def _cap(self, kept: dict[str, list[int]], importance: np.ndarray, reason: str) -> None:
        if self.max_features is None or len(kept) <= self.max_features:
            return
        ranked = sorted(kept, key=lambda c: importance[kept[c]].sum())
        for column in ranked[: len(kept) - self.max_features]:
            self._drop(kept, column, reason, importance[kept[column]].sum())

    def _rfe(self, X: pd.DataFrame, kept: dict[str, list[int]]) -> None:
        numbers = _numeric(X)
        inputs = self._inputs(X, numbers)
        splitter = (StratifiedKFold if self._classification else KFold)(
            RFE_FOLDS, shuffle=True, random_state=self.seed
        )
        order: list[tuple[str, float]] = []  # columns in elimination order, with importance
        history: list[tuple[float, int]] = []  # (cv score, columns left) per round
        left = dict(kept)
        while left:
            columns = [i for indexes in left.values() for i in indexes]
            part = inputs[:, columns] if self.linear else inputs.iloc[:, columns]
            estimator = self._estimator(l1=False)
            score = float(np.mean(cross_val_score(estimator, part, self._y, cv=splitter)))
            history.append((score, len(left)))
            if len(left) == 1:
                break
            estimator.fit(part, self._y)
            local = _model_importances(estimator)
            importance = np.zeros(X.shape[1])
            importance[columns] = local
            step = 1 if len(left) <= 20 else max(1, int(len(left) * RFE_STEP_SHARE))
            ranked = sorted(left, key=lambda c: importance[left[c]].sum())[:step]
            for column in ranked:
                order.append((column, float(importance[left[column]].sum())))
                del left[column]
        limit = self.max_features or len(kept)
        allowed = [(s, n) for s, n in history if n <= limit] or history[-1:]
        best = max(s for s, _ in allowed)
        size = min(n for s, n in allowed if s >= best - 1e-12)
        for column, score in order[: len(kept) - size]:
            self._drop(kept, column, "removed by recursive elimination", score)

    # -- transforming --------------------------------------------------------------------------
    def transform(self, X: Any) -> Any:
        check_is_fitted(self, "support_")
        if self.feature_names_in_ is None:
            return X
        return X.loc[:, list(self.feature_names_in_[self.support_])]

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "support_")
        names = self.feature_names_in_ if input_features is None else input_features
        if names is None:
            return np.asarray([f"x{i}" for i in np.flatnonzero(self.support_)], dtype=object)
        return np.asarray(names, dtype=object)[self.support_]


def _numeric(X: pd.DataFrame) -> np.ndarray:
    """Every feature as float64 (category columns as their codes, missing as NaN)."""
    columns = []
    for _, column in X.items():
        if isinstance(column.dtype, pd.CategoricalDtype):
            codes = column.cat.codes.to_numpy(dtype="float64")
            codes[codes < 0] = np.nan
            columns.append(codes)
        else:
            columns.append(pd.to_numeric(column, errors="coerce").to_numpy(dtype="float64"))
    return np.column_stack(columns) if columns else np.empty((len(X), 0))


def _filled(numbers: np.ndarray) -> np.ndarray:
    """``numbers`` with NaN replaced by each column's median (0 for an all-missing column)."""
    out = numbers.copy()
    with warnings.catch_warnings():  # an all-missing column's median is NaN (then 0)
        warnings.simplefilter("ignore", RuntimeWarning)
        medians = np.nan_to_num(np.nanmedian(out, axis=0), nan=0.0)
    rows, cols = np.nonzero(np.isnan(out))
    out[rows, cols] = medians[cols]
    return out


def _model_importances(model: Any) -> np.ndarray:
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    if hasattr(final, "coef_"):
        coef = np.atleast_2d(np.asarray(final.coef_, dtype=float))
        return np.abs(coef).sum(axis=0)
    return np.asarray(final.feature_importances_, dtype=float)


def _importances(selector: SelectFromModel) -> np.ndarray:
    return _model_importances(selector.estimator_)
