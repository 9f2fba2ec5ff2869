"""Small column transformers used by the preprocessors.

Each follows the scikit-learn estimator contract (no logic in ``__init__``, ``fit`` returns
``self``, fitted state ends in ``_``, ``get_feature_names_out``), so pipelines built from them
clone, pickle and report feature names like any scikit-learn pipeline.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

DATETIME_PARTS: tuple[str, ...] = ("year", "month", "day_of_week", "hour", "day_of_year")
"""Parts :class:`DatetimeParts` extracts by default (names of ``Series.dt`` attributes)."""

MISSING_LABEL = "__missing__"
"""The category a missing categorical value is imputed with."""


def as_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` as float64 columns; values that are not numbers become NaN."""
    frame = _as_frame(frame)
    columns = {
        name: pd.to_numeric(column, errors="coerce").astype("float64")
        for name, column in frame.items()
    }
    return pd.DataFrame(columns, index=frame.index, columns=frame.columns)


def as_labels(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` as object columns of strings, missing values kept as NaN.

    Integral floats are written without the decimal part (``1.0`` -> ``"1"``), so a category read
    as a number in one file and as text in a request encodes the same way.
    """
    frame = _as_frame(frame)
    if len(frame) >= _FACTORIZE_ROWS:
        return _as_labels_by_value(frame)
    # One vectorised pass over all cells (pandas per-column maps cost ~1 ms each per call,
    # which dominates single-row prediction latency).
    labels = _to_label(frame.to_numpy(dtype=object))
    return pd.DataFrame(labels, index=frame.index, columns=frame.columns, dtype=object)


_FACTORIZE_ROWS = 1_000
"""From this many rows, :func:`as_labels` labels each distinct value once (batch scoring)."""


def _as_labels_by_value(frame: pd.DataFrame) -> pd.DataFrame:
    """:func:`as_labels` computed once per distinct value of each column, then spread.

    Only for columns whose distinct values cannot collide under hashing while labelling
    differently (``True == 1`` hashes alike but labels ``"True"`` vs ``"1"``): numbers, booleans
    and strings; other columns take the per-cell path. The result is identical.
    """
    columns = []
    for _, column in frame.items():
        if _factorizable(column):
            codes, uniques = pd.factorize(column, use_na_sentinel=True)
            labels = np.append(_to_label(np.asarray(uniques, dtype=object)), np.nan)
            columns.append(labels.astype(object)[codes])
        else:
            columns.append(_to_label(column.to_numpy(dtype=object)).astype(object))
    labels = np.column_stack(columns) if columns else np.empty((len(frame), 0), dtype=object)
    return pd.DataFrame(labels, index=frame.index, columns=frame.columns, dtype=object)


def _factorizable(column: pd.Series) -> bool:
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return _factorizable(pd.Series(dtype.categories))
    if pd.api.types.is_bool_dtype(dtype):
        return True
    typed = pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_string_dtype(dtype)
    if typed and not pd.api.types.is_object_dtype(dtype):
        return True
    return bool(pd.api.types.infer_dtype(column, skipna=True) == "string")


def as_documents(column: pd.Series | pd.DataFrame) -> pd.Series:
    """A text column as strings, missing values as empty documents (input of a vectorizer)."""
    if isinstance(column, pd.DataFrame):
        column = column.iloc[:, 0]
    if not isinstance(column, pd.Series):
        column = pd.Series(np.ravel(np.asarray(column, dtype=object)))
    return column.astype(object).where(column.notna(), "").astype(str)


def _label(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return np.nan
    if isinstance(value, float | np.floating):
        if np.isnan(value):
            return np.nan
        if float(value).is_integer():
            return str(int(value))
    return str(value)


_to_label = np.frompyfunc(_label, 1, 1)


def _as_frame(X: Any, columns: Sequence[str] | None = None) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X
    names = None if columns is None else list(columns)
    return pd.DataFrame(np.asarray(X, dtype=object), columns=names)


def _to_datetime(column: pd.Series) -> pd.Series:
    """``column`` as naive UTC datetimes; unparseable values become NaT."""
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        return column.dt.tz_convert("UTC").dt.tz_localize(None)
    if pd.api.types.is_datetime64_dtype(column.dtype):
        return column
    with warnings.catch_warnings():
        # Format inference warns when it falls back to per-element parsing; NaT is the answer.
        warnings.simplefilter("ignore", UserWarning)
        parsed = pd.to_datetime(column, errors="coerce", utc=True)
    return parsed.dt.tz_localize(None)


class DatetimeParts(TransformerMixin, BaseEstimator):
    """Expand each datetime column into numeric parts (year, month, day of week, …).

    Values that cannot be read as dates become NaN. Output columns are named
    ``<column>_<part>`` in input order.

    Args:
        parts: attributes of ``Series.dt`` to extract; default :data:`DATETIME_PARTS`.
    """

    def __init__(self, parts: Sequence[str] = DATETIME_PARTS) -> None:
        self.parts = parts

    def fit(self, X: Any, y: Any = None) -> DatetimeParts:
        unknown = [p for p in self.parts if p not in DATETIME_PARTS]
        if unknown:
            raise ValueError(f"Unknown datetime parts {unknown}; choose from {DATETIME_PARTS}.")
        frame = _as_frame(X)
        self.feature_names_in_ = np.asarray([str(c) for c in frame.columns], dtype=object)
        self.n_features_in_ = frame.shape[1]
        return self

    def transform(self, X: Any) -> pd.DataFrame:
        check_is_fitted(self, "feature_names_in_")
        frame = _as_frame(X, list(self.feature_names_in_))
        out: dict[str, pd.Series] = {}
        for name, (_, column) in zip(self.feature_names_in_, frame.items(), strict=True):
            stamps = _to_datetime(column)
            for part in self.parts:
                out[f"{name}_{part}"] = getattr(stamps.dt, part).astype("float64")
        return pd.DataFrame(out, index=frame.index, columns=list(self.get_feature_names_out()))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "feature_names_in_")
        names = self.feature_names_in_ if input_features is None else input_features
        return np.asarray([f"{n}_{p}" for n in names for p in self.parts], dtype=object)


class CategoricalCodes(TransformerMixin, BaseEstimator):
    """Turn integer codes (from an ``OrdinalEncoder``) into pandas ``category`` columns.

    LightGBM treats ``category`` columns natively. The categories of each column are fixed at
    fit time, so a code never seen in training (never produced by a fitted ordinal encoder)
    and NaN both arrive as missing.
    """

    def fit(self, X: Any, y: Any = None) -> CategoricalCodes:
        frame = _as_frame(X)
        self.feature_names_in_ = np.asarray([str(c) for c in frame.columns], dtype=object)
        self.n_features_in_ = frame.shape[1]
        # Integer categories: XGBoost refuses floating-point category values.
        self.categories_ = [
            np.sort(pd.to_numeric(col, errors="coerce").dropna().unique()).astype("int64")
            for _, col in frame.items()
        ]
        return self

    def transform(self, X: Any) -> pd.DataFrame:
        check_is_fitted(self, "categories_")
        frame = _as_frame(X, list(self.feature_names_in_))
        out = {
            name: pd.Categorical(pd.to_numeric(col, errors="coerce"), categories=cats)
            for name, (_, col), cats in zip(
                self.feature_names_in_, frame.items(), self.categories_, strict=True
            )
        }
        return pd.DataFrame(out, index=frame.index)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "categories_")
        names = self.feature_names_in_ if input_features is None else input_features
        return np.asarray(list(names), dtype=object)
