"""Inferring a data contract (dtypes, roles, constraints) and the learning task from data.

Rules, in the order they apply:

* **dtype** — booleans, integers, floats and datetimes come from the pandas dtype; text columns
  whose values nearly all (>= 95 %) parse as dates are ``datetime``; text with at most
  ``MAX_CATEGORIES`` distinct values (and at most half as many as non-null values) is
  ``category``; other text is ``string``.
* **role** — the ``target``; given ``ignore``/``id_columns``/``time_column``; then ``ignore``
  for constant and all-null columns; ``id`` for columns that look like keys in the data (unique
  consecutive integers, or short text with ~all values distinct, on at least ``MIN_ID_ROWS`` rows);
  ``time`` for the first monotonic datetime column (else the first datetime column); ``text``
  for free text (several words per value); else ``feature``.
* **constraints** — ``max_null_share`` is the observed share with slack:
  ``min(1, max(observed * 1.5, observed + 0.01))`` rounded up to 4 decimals, so a column without
  missing values tolerates 1 %; ``min``/``max`` observed for numbers; observed ``categories`` for
  category columns; ``unique`` for identifier columns whose values are all distinct (a continuous
  measure that happens to be all distinct in a sample is not a key).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from loopml.data._contract import ColumnSpec, DataContract, Dtype, Role
from loopml.errors import DataError, InvalidInputError

MAX_CATEGORIES = 50
MIN_ID_ROWS = 20
DATETIME_PARSE_SHARE = 0.95
MAX_CLASS_LEVELS = 20
MAX_CLASS_LEVEL_RATIO = 0.2
_SAMPLE = 1000
_DATE_LIKE = re.compile(r"^\s*\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}")

Task = Literal["binary", "multiclass", "regression"]


def _text_values(series: pd.Series) -> pd.Series:
    return series.dropna().astype(str)


def _sample(values: pd.Series) -> pd.Series:
    return values if len(values) <= _SAMPLE else values.sample(_SAMPLE, random_state=0)


def parse_datetimes(values: pd.Series) -> pd.Series:
    """``values`` parsed as datetimes (ISO 8601 first, then mixed formats); failures are NaT.

    Offsets are converted to UTC so that a column mixing them still parses.
    """
    text = values.astype(str)
    parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
    failed = parsed.isna() & values.notna()
    if failed.any():
        retry = pd.to_datetime(text[failed], format="mixed", errors="coerce", utc=True)
        parsed = parsed.where(~failed, retry)
    return parsed


def _looks_datetime(values: pd.Series) -> bool:
    sample = _sample(values)
    if sample.empty or not sample.str.match(_DATE_LIKE).mean() >= DATETIME_PARSE_SHARE:
        return False
    return bool(parse_datetimes(sample).notna().mean() >= DATETIME_PARSE_SHARE)


def _is_free_text(values: pd.Series) -> bool:
    sample = _sample(values)
    if sample.empty:
        return False
    words = sample.map(lambda v: len(v.split()))
    return bool(words.median() >= 4 and sample.str.len().median() >= 20)


def infer_dtype(series: pd.Series) -> Dtype:
    """The contract dtype of one column (see the module docstring for the rules)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return "category"
    if pd.api.types.is_bool_dtype(series.dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(series.dtype):
        return "integer"
    if pd.api.types.is_float_dtype(series.dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return "datetime"
    kind = pd.api.types.infer_dtype(series, skipna=True)
    if kind == "boolean":
        return "boolean"
    if kind == "integer":
        return "integer"
    if kind in ("floating", "mixed-integer-float", "decimal"):
        return "float"
    if kind in ("datetime", "datetime64", "date"):
        return "datetime"
    values = _text_values(series)
    if _looks_datetime(values):
        return "datetime"
    n_unique = values.nunique()
    if n_unique <= MAX_CATEGORIES and n_unique <= 0.5 * len(values) and not _is_free_text(values):
        return "category"
    return "string"


def _null_share_limit(observed: float) -> float:
    if observed >= 1.0:
        return 1.0
    limit = min(1.0, max(observed * 1.5, observed + 0.01))
    return math.ceil(limit * 10_000) / 10_000


def _looks_like_id(series: pd.Series, dtype: Dtype) -> bool:
    values = series.dropna()
    if len(values) < MIN_ID_ROWS or len(values) < 0.99 * len(series):
        return False
    if dtype == "integer":
        numbers = values.astype("int64")
        return bool(numbers.is_unique and numbers.max() - numbers.min() == len(numbers) - 1)
    if dtype == "string":
        text = values.astype(str)
        return bool(text.nunique() >= 0.99 * len(text) and not _is_free_text(text))
    return False


def _check_columns(df: pd.DataFrame, names: Sequence[str], what: str) -> None:
    known = [str(c) for c in df.columns]
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=3)
            hint = f"Did you mean {', '.join(close)}?" if close else f"Columns: {', '.join(known)}."
            raise DataError(f"The {what} column {name!r} is not in the data.", hint=hint)


def _pick_time_column(df: pd.DataFrame, dtypes: dict[str, Dtype], taken: set[str]) -> str | None:
    candidates = [n for n, d in dtypes.items() if d == "datetime" and n not in taken]
    for name in candidates:
        column = df[name]
        parsed = column if pd.api.types.is_datetime64_any_dtype(column) else None
        if parsed is None:
            parsed = parse_datetimes(column)
        if parsed.dropna().is_monotonic_increasing:
            return name
    return candidates[0] if candidates else None


def _constraints(series: pd.Series, dtype: Dtype, role: Role) -> dict[str, object]:
    n_null = int(series.isna().sum())
    values = series.dropna()
    spec: dict[str, object] = {"max_null_share": _null_share_limit(n_null / len(series))}
    if dtype in ("integer", "float") and not values.empty:
        numbers = pd.to_numeric(values)
        spec["min"], spec["max"] = float(numbers.min()), float(numbers.max())
    if dtype == "category":
        spec["categories"] = sorted(values.astype(str).unique().tolist())
    spec["unique"] = role == "id" and n_null == 0 and bool(values.is_unique)
    return spec


def infer_contract(
    df: pd.DataFrame,
    *,
    target: str | None,
    sensitive: Sequence[str] = (),
    ignore: Sequence[str] = (),
    id_columns: Sequence[str] = (),
    time_column: str | None = None,
) -> DataContract:
    """Infer the data contract of ``df`` (rules in the module docstring).

    Raises:
        DataError: ``df`` has no rows, a named column is not in the data (close matches are
            suggested), or the target is entirely missing.
        InvalidInputError: one column is given two roles (e.g. target and ignore).
    """
    if len(df) == 0:
        raise DataError("Cannot infer a contract from a table with no rows.")
    df = df.set_axis([str(c) for c in df.columns], axis=1)
    _check_columns(df, [target] if target else [], "target")
    _check_columns(df, sensitive, "sensitive")
    _check_columns(df, ignore, "ignore")
    _check_columns(df, id_columns, "id")
    _check_columns(df, [time_column] if time_column else [], "time")
    given: dict[str, Role] = {}
    assignments: tuple[tuple[Sequence[str], Role], ...] = (
        (ignore, "ignore"),
        (id_columns, "id"),
        ([time_column] if time_column else [], "time"),
        ([target] if target else [], "target"),
    )
    for names, role in assignments:
        for name in names:
            if name in given and given[name] != role:
                raise InvalidInputError(
                    f"Column {name!r} is given two roles: {given[name]} and {role}.",
                    hint="Give each column one role.",
                )
            given[name] = role
    if target is not None and df[target].isna().all():
        raise DataError(
            f"The target column {target!r} has no values (all missing).",
            hint="Choose a target column that is filled in.",
        )
    dtypes = {name: infer_dtype(df[name]) for name in df.columns}
    roles = {name: _infer_role(df[name], dtypes[name], given.get(name)) for name in df.columns}
    if time_column is None:
        picked = _pick_time_column(df, dtypes, {n for n, r in roles.items() if r != "feature"})
        if picked is not None:
            roles[picked] = "time"
    columns = [
        ColumnSpec(
            name=name,
            dtype=dtypes[name],
            role=roles[name],
            sensitive=name in sensitive,
            **_constraints(df[name], dtypes[name], roles[name]),  # type: ignore[arg-type]
        )
        for name in df.columns
    ]
    return DataContract(columns=columns, target=target)


def _infer_role(series: pd.Series, dtype: Dtype, given: Role | None) -> Role:
    if given is not None:
        return given
    if series.isna().all() or series.nunique(dropna=False) <= 1:
        return "ignore"
    if _looks_like_id(series, dtype):
        return "id"
    if dtype == "string" and _is_free_text(_text_values(series)):
        return "text"
    return "feature"


def infer_task(target: pd.Series) -> Task:
    """The learning task for ``target``: ``binary`` (2 distinct values), ``multiclass`` (text,
    booleans, categories, or at most ``MAX_CLASS_LEVELS`` integer levels that are few relative to
    the rows) or ``regression``.

    Raises:
        DataError: the target is all missing, has a single value, or holds datetimes.
    """
    name = target.name if target.name is not None else "target"
    values = target.dropna()
    n_levels = values.nunique()
    if n_levels == 0:
        raise DataError(f"The target {name!r} has no values (all missing).")
    if n_levels == 1:
        raise DataError(
            f"The target {name!r} has only one class ({values.iloc[0]!r}), so there is "
            "nothing to learn.",
            hint="Check the target column and any filters applied to the data.",
        )
    if n_levels == 2:
        return "binary"
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        raise DataError(
            f"The target {name!r} holds dates, which loopml cannot predict.",
            hint="Derive a number (e.g. days until an event) and use it as the target.",
        )
    if not pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        return "multiclass"
    numbers = values.to_numpy(dtype=float)
    integral = bool(np.all(np.mod(numbers, 1) == 0))
    few = n_levels <= MAX_CLASS_LEVELS and n_levels <= MAX_CLASS_LEVEL_RATIO * len(values)
    return "multiclass" if integral and few else "regression"
