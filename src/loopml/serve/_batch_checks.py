"""Row-level contract checks of scoring chunks, vectorised on Arrow and numpy.

Batch scoring checks every model input column of every chunk against the data contract with the
row-level checks of :func:`loopml.data.validate` (``dtype``, ``in_range``,
``allowed_categories``) and the same verdicts: missing values pass every check, a value passes
``dtype`` when pandas reads it as that type, ``in_range`` compares numbers with the contract's
inclusive bounds, and categories compare as the strings the contract lists. Common Arrow and
numpy column types take a vectorised path; any other column goes through the very functions
``validate`` uses. Dataset-level checks (uniqueness, the missing-value share) concern a whole
dataset, not a chunk, and are left to ``loopml validate``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from loopml.data._contract import ColumnSpec, DataContract
from loopml.data._validate import _category_text, _dtype_check

Column: TypeAlias = pa.Array | pd.Series
Failure: TypeAlias = tuple[str, np.ndarray]
"""A check's name and the boolean mask of the rows failing it."""


@dataclass(frozen=True)
class ChunkVerdict:
    """The outcome of checking one chunk: which rows fail, and why (``"column: check"``, joined
    by ``"; "`` like :meth:`loopml.data.ValidationReport.quarantine`)."""

    bad: np.ndarray
    rows: np.ndarray
    reasons: np.ndarray
    counts: dict[str, int]

    @property
    def n_bad(self) -> int:
        return int(self.rows.size)


class ContractChecks:
    """The row-level checks of a contract's model input columns, compiled once.

    Contract: :meth:`check` takes a chunk holding every model input column (Arrow record batch
    or pandas frame) and never raises for bad values; it only reports them.
    """

    def __init__(self, contract: DataContract) -> None:
        self._specs = [s for s in contract.feature_columns if _has_checks(s)]

    def check(self, chunk: pa.RecordBatch | pd.DataFrame) -> ChunkVerdict:
        """The rows of ``chunk`` breaking a row-level check, with their reasons."""
        n = chunk.num_rows if isinstance(chunk, pa.RecordBatch) else len(chunk)
        failures: list[tuple[str, str, np.ndarray]] = []
        for spec in self._specs:
            column = chunk.column(spec.name) if isinstance(chunk, pa.RecordBatch) else None
            values: Column = column if column is not None else chunk[spec.name]
            failures += [(spec.name, name, mask) for name, mask in column_failures(spec, values)]
        bad = np.zeros(n, dtype=bool)
        for _, _, mask in failures:
            bad |= mask
        rows = np.flatnonzero(bad)
        reasons = np.full(rows.size, "", dtype=object)
        counts: dict[str, int] = {}
        for column_name, check, mask in failures:
            hit = mask[rows]
            if hit.any():
                reason = f"{column_name}: {check}"
                counts[reason] = int(hit.sum())
                prefix = np.where(reasons[hit] == "", "", "; ").astype(object)
                reasons[hit] = reasons[hit] + prefix + reason
        return ChunkVerdict(bad, rows, reasons, counts)


def _has_checks(spec: ColumnSpec) -> bool:
    has_range = spec.is_numeric and (spec.min is not None or spec.max is not None)
    has_categories = spec.dtype == "category" and spec.categories is not None
    return _dtype_check(spec.dtype) is not None or has_range or has_categories


def column_failures(spec: ColumnSpec, values: Column) -> list[Failure]:
    """The failing-row masks of ``spec``'s checks on one column, in the order :func:`validate`
    reports them (check names sorted)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.DictionaryArray):
        return _dictionary_failures(spec, values)
    numbers = _as_numbers(values)
    if numbers is not None:
        return _numeric_failures(spec, numbers)
    if isinstance(values, pa.Array) and _is_text(values.type) and _only_categories(spec):
        allowed = pa.array(spec.categories or [], type=values.type)
        passed = pc.or_(pc.is_in(values, value_set=allowed), pc.is_null(values))
        return [("allowed_categories", ~passed.to_numpy(zero_copy_only=False))]
    series = values.to_pandas() if isinstance(values, pa.Array) else values
    return _pandas_failures(spec, series.reset_index(drop=True))


def _is_text(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _only_categories(spec: ColumnSpec) -> bool:
    return spec.dtype == "category" and spec.categories is not None


def _as_numbers(values: Column) -> np.ndarray | None:
    """The column as float64 with missing values as NaN, when it is stored as numbers."""
    if isinstance(values, pa.Array):
        if pa.types.is_integer(values.type) or pa.types.is_floating(values.type):
            return np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)
        return None
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    return None


def _numeric_failures(spec: ColumnSpec, numbers: np.ndarray) -> list[Failure]:
    if _only_categories(spec):
        return _pandas_failures(spec, pd.Series(numbers))
    failures: list[Failure] = []
    missing = np.isnan(numbers)
    if spec.dtype == "integer":
        with np.errstate(invalid="ignore"):
            integral = np.isfinite(numbers) & (np.mod(numbers, 1) == 0)
        failures.append(("dtype", ~(missing | integral)))
    elif spec.dtype in ("boolean", "datetime"):
        return _pandas_failures(spec, pd.Series(numbers))
    if spec.is_numeric and (spec.min is not None or spec.max is not None):
        low = -np.inf if spec.min is None else spec.min
        high = np.inf if spec.max is None else spec.max
        with np.errstate(invalid="ignore"):
            inside = (numbers >= low) & (numbers <= high)
        failures.append(("in_range", ~(missing | inside)))
    return failures


def _dictionary_failures(spec: ColumnSpec, values: pa.DictionaryArray) -> list[Failure]:
    """Checks the (few) distinct values once, then spreads the verdicts over the rows."""
    indices = values.indices.to_numpy(zero_copy_only=False)
    valid = values.is_valid().to_numpy(zero_copy_only=False)
    codes = np.where(valid, indices, 0).astype(np.intp)
    failures = []
    for name, mask in column_failures(spec, values.dictionary):
        failures.append((name, mask[codes] & valid if mask.size else np.zeros_like(valid)))
    return failures


def _pandas_failures(spec: ColumnSpec, series: pd.Series) -> list[Failure]:
    """The checks of :mod:`loopml.data._validate` applied as pandera applies them."""
    present = series.notna().to_numpy()
    kept = series[present]
    checks: list[tuple[str, Callable[[pd.Series], pd.Series]]] = []
    if spec.dtype == "category" and spec.categories is not None:
        allowed = set(spec.categories)
        checks.append(("allowed_categories", lambda s: _category_text(s).isin(allowed)))
    dtype_fn = _dtype_check(spec.dtype)
    if dtype_fn is not None:
        checks.append(("dtype", dtype_fn))
    if spec.is_numeric and (spec.min is not None or spec.max is not None):
        low = -np.inf if spec.min is None else spec.min
        high = np.inf if spec.max is None else spec.max

        def within(s: pd.Series) -> pd.Series:
            numbers = pd.to_numeric(s, errors="coerce")
            return numbers.isna() | ((numbers >= low) & (numbers <= high))

        checks.append(("in_range", within))
    failures: list[Failure] = []
    for name, fn in checks:
        mask = np.zeros(len(series), dtype=bool)
        if len(kept):
            mask[present] = ~np.asarray(fn(kept), dtype=bool)
        failures.append((name, mask))
    return failures
