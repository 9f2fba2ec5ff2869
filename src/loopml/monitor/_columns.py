"""Which columns a drift check reads, of what kind, and their values as arrays.

A column is ``numeric`` (integer/float) or ``categorical`` (category/boolean, or any
non-numeric dtype in ad-hoc mode). Identifiers, free text and datetimes are not drift-tested.
Model outputs follow the bundle's convention: ``prediction`` and ``probability_<label>``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from loopml.data._contract import ColumnSpec
from loopml.errors import DataError
from loopml.monitor.drift import Kind

T = TypeVar("T")
R = TypeVar("R")
MAX_WORKERS = 8
"""Columns summarised or checked at once (each holds a few copies of one column)."""
PREDICTION_COLUMN = "prediction"
PROBABILITY_PREFIX = "probability_"


def is_prediction_column(name: str) -> bool:
    """Whether ``name`` is a model output column (``prediction``, ``probability_<label>``)."""
    return name == PREDICTION_COLUMN or name.startswith(PROBABILITY_PREFIX)


def kind_of_spec(spec: ColumnSpec) -> Kind | str:
    """The kind of a contract column, or the reason it is not drift-tested."""
    if spec.role == "text":
        return "free text is not drift-tested"
    if spec.is_numeric:
        return "numeric"
    if spec.dtype in ("category", "boolean"):
        return "categorical"
    return f"{spec.dtype} columns are not drift-tested"


def kind_of_series(series: pd.Series) -> Kind | str:
    """The kind inferred from a column's dtype, or the reason it is not drift-tested."""
    if ptypes.is_bool_dtype(series.dtype):
        return "categorical"
    if ptypes.is_numeric_dtype(series.dtype):
        return "numeric"
    if ptypes.is_datetime64_any_dtype(series.dtype) or isinstance(
        series.dtype, pd.PeriodDtype | pd.IntervalDtype
    ):
        return "datetime columns are not drift-tested"
    return "categorical"


def numeric_values(series: pd.Series) -> tuple[np.ndarray, int]:
    """The finite values of ``series`` as float64, and how many were missing.

    Values that are not numbers (text in a numeric column) and infinities count as missing.
    The array is always a fresh copy the caller owns (it may sort it in place); it is the only
    copy made when every value is finite.
    """
    if ptypes.is_numeric_dtype(series.dtype) and not ptypes.is_bool_dtype(series.dtype):
        array = series.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
    else:
        coerced = pd.to_numeric(series, errors="coerce")
        array = np.array(coerced, dtype=np.float64)
    finite = np.isfinite(array)
    if finite.all():
        return array, 0
    values = array[finite]
    return values, int(array.size - values.size)


def check_frame(frame: pd.DataFrame, what: str) -> None:
    """Refuse a frame a drift check cannot use.

    Raises:
        DataError: not a DataFrame, no rows, or duplicated column names.
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataError(
            f"The {what} data must be a pandas DataFrame; got {type(frame).__name__}.",
            hint="Read the file with pandas (or loopml's data sources) first.",
        )
    if len(frame) == 0:
        raise DataError(
            f"The {what} data has no rows.",
            hint="Check the file or the time window; drift needs at least one row on each side.",
        )
    duplicated = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
    if duplicated:
        raise DataError(
            f"The {what} data has duplicated column names: {', '.join(duplicated)}.",
            hint="Rename or drop the duplicates.",
        )


def in_parallel(work: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """``[work(item) for item in items]``, run on up to :data:`MAX_WORKERS` threads (no more
    than the CPUs). For per-column numpy/pandas work, which releases the GIL while it sorts,
    counts and hashes; the first exception is raised."""
    workers = min(len(items), os.cpu_count() or 1, MAX_WORKERS)
    if workers <= 1:
        return [work(item) for item in items]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="loopml-drift") as pool:
        return list(pool.map(work, items))
