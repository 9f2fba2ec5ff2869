"""Column blocks of a compiled preprocessor: one fitted ColumnTransformer entry as numpy code.

Each :class:`Block` turns validated request values (column name -> list of Python values, None for
missing) into its slice of the model's input matrix. Numeric chains (imputers, scalers) replay
the fitted statistics with the same float64 operations scikit-learn performs; categorical chains
(label conversion, constant imputation, one-hot/ordinal encoding, pandas category codes) are
*tabulated* at compile time by running the fitted chain itself on every known category, a
missing value and an unseen one, so encoding semantics (infrequent groups, dropped levels,
unknown handling) come from scikit-learn rather than being re-implemented.

A step the compiler does not understand raises :class:`NotCompilableError` naming it; the model is
then served through its pipeline.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    MaxAbsScaler,
    MinMaxScaler,
    OneHotEncoder,
    OrdinalEncoder,
    RobustScaler,
    StandardScaler,
    TargetEncoder,
)

from loopml.data._contract import ColumnSpec
from loopml.features._transformers import (
    DATETIME_PARTS,
    CategoricalCodes,
    DatetimeParts,
    _label,
    as_labels,
    as_numbers,
)

Values = dict[str, list[Any]]
"""Validated request values, column by column (None for a missing value)."""

Rows = Values | pd.DataFrame
"""What a compiled model reads: request values, or a frame of the contract's columns (batch)."""

ENCODERS = (OneHotEncoder, OrdinalEncoder, TargetEncoder)
"""Per-column encoders whose fitted mapping is tabulated (their ``transform``, not the
cross-fitted ``fit_transform`` of a target encoder)."""

SCALERS = (StandardScaler, RobustScaler, MinMaxScaler, MaxAbsScaler)

_UNSEEN = "\x00loopml-unseen-category\x00"
"""A category no training set contains: probes how an encoder treats unknown values."""


class NotCompilableError(Exception):
    """A pipeline step the compiler cannot turn into numpy code (the message names it)."""


class Block(abc.ABC):
    """One ColumnTransformer entry compiled: writes ``width`` columns of the input matrix."""

    columns: list[str]
    width: int
    category_columns: list[tuple[int, list[Any]]]
    """Output positions (within the block) holding pandas category codes, with the categories."""

    @abc.abstractmethod
    def fill(self, values: Values, n: int, out: np.ndarray) -> None:
        """Write the block's columns for ``n`` records into ``out`` (shape ``(n, width)``).

        Raises:
            ValueError: a value the fitted pipeline would also refuse (an unknown category of an
                encoder that errors on them).
        """

    def fill_frame(self, frame: pd.DataFrame, out: np.ndarray) -> None:
        """:meth:`fill` for the rows of ``frame`` (blocks override it with column operations)."""
        self.fill(values_of(frame, self.columns), len(frame), out)


def values_of(frame: pd.DataFrame, columns: Sequence[str]) -> Values:
    """The ``columns`` of ``frame`` as request values (Python objects, None for missing)."""
    out: Values = {}
    for name in columns:
        column = frame[name].astype(object)
        out[name] = column.where(column.notna(), None).tolist()
    return out


def numbers(values: Rows, columns: Sequence[str], n: int) -> np.ndarray:
    """The columns as a float64 ``(n, len(columns))`` matrix (None -> NaN, bools -> 0/1).

    A frame's columns are read as :func:`as_numbers` reads them (a non-number becomes NaN); the
    result is always a new, writable array."""
    if isinstance(values, pd.DataFrame):
        out = np.empty((len(values), len(columns)), dtype=np.float64)
        for j, name in enumerate(columns):
            column = values[name]
            if column.dtype == np.float64:  # already numbers, missing ones already NaN
                out[:, j] = column.to_numpy()
                continue
            number = pd.to_numeric(column, errors="coerce")
            out[:, j] = number.to_numpy(dtype=np.float64, na_value=np.nan)
        return out
    if n == 1:
        return np.array([[values[c][0] for c in columns]], dtype=np.float64)
    return np.array([values[c] for c in columns], dtype=np.float64).T.copy()


# -- numeric chains --------------------------------------------------------------------------------
MatrixStep = Callable[[np.ndarray], np.ndarray]


def numeric_step(step: Any, name: str) -> MatrixStep | None:
    """The numpy replay of one fitted numeric step (None: the identity).

    Raises:
        NotCompilableError: the step is not an imputer or scaler the compiler knows.
    """
    if step is None or step == "passthrough":
        return None
    if isinstance(step, FunctionTransformer):
        if step.func is as_numbers or step.func is None:
            return None
        raise NotCompilableError(f"step {name!r} (FunctionTransformer({step.func!r}))")
    if isinstance(step, SimpleImputer):
        return _imputer(step, name)
    if isinstance(step, StandardScaler):
        mean = step.mean_ if step.with_mean else None
        scale = step.scale_ if step.with_std else None
        return lambda X: _shift_scale(X, mean, scale)
    if isinstance(step, RobustScaler):
        center = step.center_ if step.with_centering else None
        scale = step.scale_ if step.with_scaling else None
        return lambda X: _shift_scale(X, center, scale)
    if isinstance(step, MinMaxScaler):
        return _min_max(step)
    if isinstance(step, MaxAbsScaler):
        max_abs = step.scale_
        return lambda X: X / max_abs
    raise NotCompilableError(f"step {name!r} ({type(step).__name__})")


def _shift_scale(X: np.ndarray, shift: np.ndarray | None, scale: np.ndarray | None) -> np.ndarray:
    # The same in-place float64 operations scikit-learn performs, so results are bit-identical.
    if shift is not None:
        X -= shift
    if scale is not None:
        X /= scale
    return X


def _min_max(step: MinMaxScaler) -> MatrixStep:
    scale, low = step.scale_, step.min_
    bounds = step.feature_range if step.clip else None

    def apply(X: np.ndarray) -> np.ndarray:
        X *= scale
        X += low
        if bounds is not None:
            np.clip(X, bounds[0], bounds[1], out=X)
        return X

    return apply


def _imputer(step: SimpleImputer, name: str) -> MatrixStep:
    missing = step.missing_values
    if not (isinstance(missing, float) and np.isnan(missing)):
        raise NotCompilableError(f"step {name!r} (SimpleImputer with missing_values={missing!r})")
    statistics = np.asarray(step.statistics_, dtype=np.float64)
    empty = np.isnan(statistics)
    if empty.any() and step.keep_empty_features:
        raise NotCompilableError(f"step {name!r} (SimpleImputer keeping empty features)")
    kept = np.flatnonzero(~empty)
    fill = statistics[kept]
    indicator = step.indicator_.features_ if step.indicator_ is not None else None

    def apply(X: np.ndarray) -> np.ndarray:
        flags = np.isnan(X[:, indicator]).astype(np.float64) if indicator is not None else None
        out = X[:, kept] if len(kept) != X.shape[1] else X
        holes = np.isnan(out)
        if holes.any():
            out = np.where(holes, fill, out)
        return out if flags is None else np.hstack([out, flags])

    return apply


def _chain(steps: Sequence[tuple[str, Any]]) -> list[MatrixStep]:
    return [s for name, step in steps if (s := numeric_step(step, name)) is not None]


def _run(chain: list[MatrixStep], X: np.ndarray) -> np.ndarray:
    for step in chain:
        X = step(X)
    return X


@dataclass
class NumericBlock(Block):
    """Numeric (or boolean) columns through imputers and scalers."""

    columns: list[str]
    chain: list[MatrixStep]
    width: int

    def __post_init__(self) -> None:
        self.category_columns = []

    def fill(self, values: Values, n: int, out: np.ndarray) -> None:
        out[:, :] = _run(self.chain, numbers(values, self.columns, n))

    def fill_frame(self, frame: pd.DataFrame, out: np.ndarray) -> None:
        out[:, :] = _run(self.chain, numbers(frame, self.columns, len(frame)))


@dataclass
class DatetimeBlock(Block):
    """Datetime columns expanded into parts (as :class:`DatetimeParts`), then numeric steps."""

    columns: list[str]
    parts: tuple[str, ...]
    chain: list[MatrixStep]
    width: int

    def __post_init__(self) -> None:
        self.category_columns = []

    def fill(self, values: Values, n: int, out: np.ndarray) -> None:
        X = np.empty((n, len(self.columns) * len(self.parts)), dtype=np.float64)
        at = 0
        for column in self.columns:
            for i, value in enumerate(values[column]):
                X[i, at : at + len(self.parts)] = _date_parts(value, self.parts)
            at += len(self.parts)
        out[:, :] = _run(self.chain, X)


def _date_parts(value: Any, parts: tuple[str, ...]) -> list[float]:
    if not isinstance(value, datetime):
        return [np.nan] * len(parts)
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    facts = {
        "year": value.year,
        "month": value.month,
        "day_of_week": value.weekday(),
        "hour": value.hour,
        "day_of_year": value.timetuple().tm_yday,
    }
    return [float(facts[p]) for p in parts]


@dataclass
class TableBlock(Block):
    """Categorical columns encoded by look-up tables built from the fitted chain.

    ``tables[j]`` maps a column's key (its label, see :func:`_label`, when the chain starts with
    ``as_labels``; else the raw value) to its output row; ``missing[j]`` and ``unseen[j]`` are the
    rows of a missing and of an unknown value (None: the fitted chain refuses unknown values).
    """

    columns: list[str]
    labels: bool
    tables: list[dict[Any, np.ndarray]]
    missing: list[np.ndarray | None]
    unseen: list[np.ndarray | None]
    widths: list[int]
    width: int
    category_columns: list[tuple[int, list[Any]]]

    def fill(self, values: Values, n: int, out: np.ndarray) -> None:
        at = 0
        for j, column in enumerate(self.columns):
            table, width = self.tables[j], self.widths[j]
            for i, value in enumerate(values[column]):
                row = self._row(j, table, value)
                out[i, at : at + width] = row
            at += width

    def fill_frame(self, frame: pd.DataFrame, out: np.ndarray) -> None:
        """Each distinct value of a column is looked up once, then spread to its rows."""
        at = 0
        for j, column in enumerate(self.columns):
            width = self.widths[j]
            codes, uniques = pd.factorize(frame[column], use_na_sentinel=True)
            distinct = uniques.tolist()
            if not _distinct_labels(distinct):
                values = values_of(frame, [column])[column]
                for i, value in enumerate(values):
                    out[i, at : at + width] = self._row(j, self.tables[j], value)
            else:
                rows = np.empty((len(distinct) + 1, width), dtype=np.float64)
                for k, value in enumerate(distinct):
                    rows[k] = self._row(j, self.tables[j], value)
                if (codes < 0).any():  # code -1 reads the last row: the missing value's
                    rows[-1] = self._row(j, self.tables[j], None)
                out[:, at : at + width] = rows[codes]
            at += width

    def _row(self, j: int, table: dict[Any, np.ndarray], value: Any) -> np.ndarray:
        if value is None:
            row = self.missing[j]
        else:
            key = _label(value) if self.labels else value
            row = table.get(key)
            if row is None:
                row = self.unseen[j]
                if row is None:
                    raise ValueError(
                        f"Found unknown categories [{value!r}] in column {self.columns[j]!r} "
                        "during transform"
                    )
        if row is None:
            raise ValueError(f"Column {self.columns[j]!r} cannot be missing for this model")
        return row


def _distinct_labels(values: list[Any]) -> bool:
    """Whether values that ``pd.factorize`` keeps apart also label apart and vice versa: all
    strings, or all numbers of one kind (``True == 1`` would merge values labelled differently)."""
    kinds = {type(v) for v in values}
    return kinds <= {str} or kinds <= {float} or kinds <= {int} or kinds <= {bool}


def _encoder_widths(encoder: Any, n_columns: int) -> list[int]:
    if isinstance(encoder, OrdinalEncoder):
        return [1] * n_columns
    if isinstance(encoder, TargetEncoder):
        per_column = len(encoder.classes_) if encoder.target_type_ == "multiclass" else 1
        return [per_column] * n_columns
    widths = getattr(encoder, "_n_features_outs", None)
    if widths is None or len(widths) != n_columns:
        raise NotCompilableError("OneHotEncoder without per-column output sizes")
    return [int(w) for w in widths]


def _categorical_steps(steps: Sequence[tuple[str, Any]]) -> tuple[bool, Any]:
    """Check a chain is label conversion, imputation, one encoder and per-column scaling or
    category codes; returns (whether it starts with label conversion, the encoder)."""
    labels, encoder = False, None
    for i, (name, step) in enumerate(steps):
        if step is None or step == "passthrough":
            continue
        if isinstance(step, FunctionTransformer) and step.func is as_labels and i == 0:
            labels = True
        elif isinstance(step, SimpleImputer) and encoder is None and not step.add_indicator:
            continue
        elif isinstance(step, ENCODERS) and encoder is None:
            encoder = step
        elif isinstance(step, CategoricalCodes) and isinstance(encoder, OrdinalEncoder):
            continue
        elif isinstance(step, SCALERS) and encoder is not None:
            continue  # per output column, so tabulating the chain stays exact
        else:
            kind = type(step).__name__
            raise NotCompilableError(f"step {name!r} ({kind}) in a categorical chain")
    if encoder is None:
        raise NotCompilableError("a categorical chain without an encoder")
    return labels, encoder


def _probe(chain: Any, columns: list[str], column: int, probes: list[Any], base: list[Any]) -> Any:
    """The chain's output (numpy, category columns as codes) for ``probes`` in one column."""
    data = {
        name: pd.Series(probes if j == column else [base[j]] * len(probes), dtype=object)
        for j, name in enumerate(columns)
    }
    return chain.transform(pd.DataFrame(data))


def _as_matrix(output: Any) -> tuple[np.ndarray, list[tuple[int, list[Any]]]]:
    if not isinstance(output, pd.DataFrame):
        dense = output.toarray() if hasattr(output, "toarray") else output
        return np.asarray(dense, dtype=np.float64), []
    matrix = np.empty(output.shape, dtype=np.float64)
    categories: list[tuple[int, list[Any]]] = []
    for k, (_, column) in enumerate(output.items()):
        if isinstance(column.dtype, pd.CategoricalDtype):
            codes = column.cat.codes.to_numpy().astype(np.float64)
            codes[codes < 0] = np.nan
            matrix[:, k] = codes
            categories.append((k, list(column.cat.categories)))
        else:
            matrix[:, k] = column.to_numpy(dtype=np.float64)
    return matrix, categories


def table_block(chain: Any, columns: list[str]) -> TableBlock:
    """Tabulate a fitted categorical chain over ``columns`` (see :class:`TableBlock`).

    Raises:
        NotCompilableError: the chain holds a step other than label conversion, imputation,
            one encoder and category codes.
    """
    steps = chain.steps if isinstance(chain, Pipeline) else [(type(chain).__name__, chain)]
    labels, encoder = _categorical_steps(steps)
    widths = _encoder_widths(encoder, len(columns))
    known = [[c for c in cats if not _is_missing(c)] for cats in encoder.categories_]
    base = [cats[0] if cats else _UNSEEN for cats in known]
    tables: list[dict[Any, np.ndarray]] = []
    missing: list[np.ndarray | None] = []
    unseen: list[np.ndarray | None] = []
    category_columns: list[tuple[int, list[Any]]] = []
    at = 0
    for j, _ in enumerate(columns):
        cut = slice(at, at + widths[j])
        if known[j]:
            rows, cats = _as_matrix(_probe(chain, columns, j, known[j], base))
            tables.append({key: rows[i, cut].copy() for i, key in enumerate(known[j])})
            category_columns = category_columns or cats
        else:
            tables.append({})
        missing.append(_probe_row(chain, columns, j, None, base, cut))
        unseen.append(_probe_row(chain, columns, j, _UNSEEN, base, cut))
        at += widths[j]
    return TableBlock(
        columns=columns,
        labels=labels,
        tables=tables,
        missing=missing,
        unseen=unseen,
        widths=widths,
        width=at,
        category_columns=category_columns,
    )


def _probe_row(
    chain: Any, columns: list[str], j: int, value: Any, base: list[Any], cut: slice
) -> np.ndarray | None:
    try:
        rows, _ = _as_matrix(_probe(chain, columns, j, [np.nan if value is None else value], base))
    except (ValueError, TypeError):
        return None
    return rows[0, cut].copy()


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


# -- dispatch --------------------------------------------------------------------------------
def compile_block(transformer: Any, columns: list[str], specs: dict[str, ColumnSpec]) -> Block:
    """The block of one fitted ColumnTransformer entry over ``columns``.

    Raises:
        NotCompilableError: a step, or a column kind, the compiler does not understand.
    """
    steps: list[tuple[str, Any]]
    if transformer == "passthrough":
        steps = []
    elif isinstance(transformer, Pipeline):
        steps = list(transformer.steps)
    else:
        steps = [(type(transformer).__name__, transformer)]
    kinds = {specs[c].dtype for c in columns}
    if any(specs[c].role == "text" for c in columns):
        raise NotCompilableError(f"text columns {columns}")
    first = steps[0][1] if steps else None
    if isinstance(first, DatetimeParts):
        parts = tuple(first.parts)
        if kinds != {"datetime"} or any(p not in DATETIME_PARTS for p in parts):
            raise NotCompilableError("DatetimeParts over non-datetime columns")
        chain = _chain(steps[1:])
        width = _width(chain, len(columns) * len(parts))
        return DatetimeBlock(columns, parts, chain, width)
    if any(isinstance(s, ENCODERS) for _, s in steps):
        return table_block(transformer, columns)
    if kinds <= {"integer", "float", "boolean"}:
        chain = _chain(steps)
        return NumericBlock(columns, chain, _width(chain, len(columns)))
    raise NotCompilableError(f"columns {columns} of dtype {sorted(kinds)} without an encoder")


def _width(chain: list[MatrixStep], n_inputs: int) -> int:
    return int(_run(chain, np.zeros((1, n_inputs))).shape[1])
