"""Per-column pieces of a request schema, chosen once per column from its contract spec.

A *builder* turns one column's validated request values into an array of the dtype the pipeline
was trained on; a *check* flags values the model accepts but never saw in training (an unseen
category, a number outside the training range), which serving reports as warnings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from loopml.data._contract import ColumnSpec, DataContract
from loopml.errors import InvalidInputError

ColumnBuilder = Callable[[list[Any]], Any]
"""Turns one column's validated values (None for missing) into a numpy array or pandas Series."""


def column_builder(spec: ColumnSpec) -> ColumnBuilder:
    """The builder for ``spec``'s dtype: numbers to int64/float64 (missing as NaN), booleans to
    bool (object when missing), text to strings (missing as NaN), datetimes to datetime64."""
    if spec.dtype == "integer":
        return _integers
    if spec.dtype == "float":
        return _floats
    if spec.dtype == "boolean":
        return _booleans
    if spec.dtype == "datetime":
        return lambda values: _datetimes(spec.name, values)
    return _texts


def _integers(values: list[Any]) -> np.ndarray:
    if None in values:
        return np.array(values, dtype=np.float64)
    return np.array(values, dtype=np.int64)


def _floats(values: list[Any]) -> np.ndarray:
    return np.array(values, dtype=np.float64)


def _booleans(values: list[Any]) -> np.ndarray:
    if None in values:
        return np.array([np.nan if v is None else v for v in values], dtype=object)
    return np.array(values, dtype=bool)


def _texts(values: list[Any]) -> pd.Series:
    if None not in values:
        return pd.Series(values)
    series = pd.Series([np.nan if v is None else v for v in values])
    # A column of only missing values would otherwise become float64, which encoders fitted on
    # strings reject.
    return series if series.notna().any() else series.astype(object)


def _datetimes(name: str, values: list[Any]) -> pd.DatetimeIndex:
    aware = any(isinstance(v, datetime) and v.tzinfo is not None for v in values)
    try:
        return pd.to_datetime(values, utc=aware)
    except (ValueError, TypeError, OverflowError) as exc:
        raise InvalidInputError(
            f"The values of field {name!r} cannot be read as one datetime column: {exc}.",
            hint="Send ISO 8601 timestamps, all with a time zone or all without.",
        ) from None


@dataclass(frozen=True)
class ColumnCheck:
    """Flags a column's values that lie outside what the model saw in training."""

    column: str
    categories: frozenset[str] | None = None
    low: float | None = None
    high: float | None = None
    reject: bool = False
    """True when the contract's policy refuses such values (422) instead of flagging them."""

    def __call__(self, value: Any) -> str | None:
        """A warning sentence for ``value``, or None when it is within the training data."""
        if value is None:
            return None
        if self.categories is not None:
            if value in self.categories:
                return None
            if self.reject:
                known = ", ".join(sorted(self.categories)[:10])
                more = ", …" if len(self.categories) > 10 else ""
                return f"{value!r} is not a category the model knows (known: {known}{more})"
            return (
                f"{value!r} is a category the model did not see in training; "
                "it is scored as unknown."
            )
        if self.low is not None and value < self.low:
            return f"{value!r} is below the training minimum {self.low:g}."
        if self.high is not None and value > self.high:
            return f"{value!r} is above the training maximum {self.high:g}."
        return None


def column_check(spec: ColumnSpec, contract: DataContract | None = None) -> ColumnCheck | None:
    """The check of ``spec``, or None when its contract states no categories or range.

    ``contract`` supplies the policies (``unknown_categories``, ``out_of_range``) that decide
    whether a value outside them is flagged (the default) or rejected.
    """
    if spec.dtype == "category" and spec.categories:
        reject = contract is not None and contract.unknown_categories == "reject"
        return ColumnCheck(spec.name, categories=frozenset(spec.categories), reject=reject)
    if spec.is_numeric and (spec.min is not None or spec.max is not None):
        reject = contract is not None and contract.out_of_range == "reject"
        return ColumnCheck(spec.name, low=spec.min, high=spec.max, reject=reject)
    return None
