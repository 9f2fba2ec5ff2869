"""Checking a DataFrame against its data contract, with pandera.

The contract compiles once into a :class:`pandera.pandas.DataFrameSchema` (cached per contract)
whose checks run lazily, so one pass collects every failure into a
:class:`~loopml.data._report.ValidationReport`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from loopml.data._contract import ColumnSpec, DataContract
from loopml.data._infer import parse_datetimes
from loopml.data._leakage import check_leakage
from loopml.data._report import ROW_CHECKS, ValidationReport, Violation
from loopml.errors import DataError

_N_EXAMPLES = 5
# pandera's names, and our check names (prefixed so they never clash with pandera's built-ins).
_CHECK_NAMES = {
    "column_in_dataframe": "missing_column",
    "field_uniqueness": "unique",
    "contract_dtype": "dtype",
    "contract_range": "in_range",
    "contract_categories": "allowed_categories",
    "contract_null_share": "max_null_share",
}
_BOOLEAN_TEXT = frozenset(
    {"true", "false", "1", "0", "1.0", "0.0", "yes", "no", "t", "f", "y", "n"}
)


# -- element-wise checks (True = the value passes; nulls are dropped by pandera first) ---------
def _dtype_check(dtype: str) -> Callable[[pd.Series], pd.Series] | None:
    def numeric(s: pd.Series) -> pd.Series:
        return pd.to_numeric(s, errors="coerce").notna()

    def integer(s: pd.Series) -> pd.Series:
        numbers = pd.to_numeric(s, errors="coerce").astype("float64")
        return pd.Series(np.isfinite(numbers) & (np.mod(numbers, 1) == 0), index=s.index)

    def boolean(s: pd.Series) -> pd.Series:
        if pd.api.types.is_bool_dtype(s.dtype):
            return pd.Series(True, index=s.index)
        return s.astype(str).str.strip().str.lower().isin(_BOOLEAN_TEXT)

    def datetime(s: pd.Series) -> pd.Series:
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            return pd.Series(True, index=s.index)
        return parse_datetimes(s).notna()

    checks = {"integer": integer, "float": numeric, "boolean": boolean, "datetime": datetime}
    return checks.get(dtype)


def _category_text(s: pd.Series) -> pd.Series:
    """Values as the strings a contract lists (``3.0`` read from a file matches ``"3"``)."""
    if pd.api.types.is_float_dtype(s.dtype):
        return s.map(lambda v: str(int(v)) if float(v).is_integer() else str(v))
    return s.astype(str)


def _column_checks(spec: ColumnSpec) -> list[pa.Check]:
    checks: list[pa.Check] = []
    dtype_fn = _dtype_check(spec.dtype)
    if dtype_fn is not None:
        checks.append(pa.Check(dtype_fn, name="contract_dtype"))
    if spec.is_numeric and (spec.min is not None or spec.max is not None):
        low = -np.inf if spec.min is None else spec.min
        high = np.inf if spec.max is None else spec.max

        def within_range(s: pd.Series) -> pd.Series:
            numbers = pd.to_numeric(s, errors="coerce")
            return numbers.isna() | ((numbers >= low) & (numbers <= high))

        checks.append(pa.Check(within_range, name="contract_range"))
    if spec.dtype == "category" and spec.categories is not None:
        allowed = set(spec.categories)
        checks.append(
            pa.Check(lambda s: _category_text(s).isin(allowed), name="contract_categories")
        )
    limit = spec.max_null_share
    checks.append(
        pa.Check(
            lambda s: bool(s.isna().mean() <= limit), name="contract_null_share", ignore_na=False
        )
    )
    return checks


@functools.lru_cache(maxsize=64)
def _compiled_schema(contract_json: str, require_target: bool) -> pa.DataFrameSchema:
    contract = DataContract.model_validate_json(contract_json)
    columns = {}
    for spec in contract.columns:
        required = spec.is_model_input or (require_target and spec.name == contract.target)
        columns[spec.name] = pa.Column(
            None,
            checks=_column_checks(spec),
            nullable=True,
            unique=spec.unique,
            report_duplicates="exclude_first",
            required=required,
            name=spec.name,
        )
    return pa.DataFrameSchema(columns, strict=False, name="data contract")


def compile_schema(contract: DataContract, *, require_target: bool = False) -> pa.DataFrameSchema:
    """The pandera schema enforcing ``contract`` (built once per contract, then cached).

    Model inputs (roles ``feature``/``text``) must be present, and the target too when
    ``require_target``; other columns are checked when present.
    """
    return _compiled_schema(contract.model_dump_json(), require_target)


def validate(
    df: pd.DataFrame, contract: DataContract, *, require_target: bool = False
) -> ValidationReport:
    """Check ``df`` against ``contract`` and collect every violation (nothing is raised for bad
    data: decide what to do with :func:`enforce`). With ``require_target``, the report also
    carries leakage and target warnings (:func:`loopml.data.check_leakage`).

    Raises:
        DataError: ``df`` has duplicated column names.
    """
    frame = df.reset_index(drop=True).set_axis([str(c) for c in df.columns], axis=1)
    if frame.columns.has_duplicates:
        duplicated = sorted(set(frame.columns[frame.columns.duplicated()]))
        raise DataError(f"The data has duplicated column names: {', '.join(duplicated)}.")
    schema = compile_schema(contract, require_target=require_target)
    try:
        schema.validate(frame, lazy=True)
        cases = pd.DataFrame(columns=["column", "check", "failure_case", "index"])
    except SchemaErrors as exc:
        cases = exc.failure_cases
    violations, reasons = _violations(cases, frame, contract)
    known = set(contract.names)
    return ValidationReport(
        ok=not violations,
        n_rows=len(frame),
        violations=violations,
        bad_rows=np.array(sorted(reasons), dtype=np.int64),
        extra_columns=[c for c in frame.columns if c not in known],
        row_reasons=reasons,
        warnings=check_leakage(frame, contract) if require_target else [],
    )


def _violations(
    cases: pd.DataFrame, frame: pd.DataFrame, contract: DataContract
) -> tuple[list[Violation], dict[int, list[str]]]:
    violations: list[Violation] = []
    reasons: dict[int, list[str]] = {}
    cases = cases.assign(check=cases["check"].astype(str).replace(_CHECK_NAMES))
    missing = cases["check"] == "missing_column"
    cases.loc[missing, "column"] = cases.loc[missing, "failure_case"]
    order = {name: i for i, name in enumerate(contract.names)}
    groups = cases.groupby(["column", "check"], sort=False, dropna=False)
    ordered = sorted(groups, key=lambda g: (order.get(str(g[0][0]), -1), str(g[0][1])))
    for (column, check), group in ordered:
        spec = contract.column(str(column)) if str(column) in order else None
        rows = sorted({int(i) for i in group["index"].dropna()}) if check in ROW_CHECKS else []
        examples = list(dict.fromkeys(_jsonable(v) for v in group["failure_case"]))
        violation = Violation(
            column=str(column),
            check=str(check),
            count=len(rows) or 1,
            message=_message(spec, str(check), len(rows), examples, frame),
            examples=examples[:_N_EXAMPLES] if check in ROW_CHECKS else [],
            rows=rows[:_N_EXAMPLES],
        )
        violations.append(violation)
        for row in rows:
            reasons.setdefault(row, []).append(f"{column}: {check}")
    return violations, reasons


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)


def _values(count: int) -> str:
    return f"{count} value" if count == 1 else f"{count} values"


def _message(
    spec: ColumnSpec | None, check: str, count: int, examples: list[Any], frame: pd.DataFrame
) -> str:
    shown = ", ".join(repr(v) for v in examples[:3])
    if spec is None:  # a table-level failure pandera reports without a column
        return f"The data fails check {check!r} ({shown})."
    name = spec.name
    if check == "missing_column":
        return f"Column {name!r} is missing."
    if check == "max_null_share":
        share = frame[name].isna().mean()
        return (
            f"Column {name!r} has {share:.1%} missing values; the contract allows at most "
            f"{spec.max_null_share:.1%}."
        )
    if check == "dtype":
        return f"Column {name!r} has {_values(count)} that are not {spec.dtype} (e.g. {shown})."
    if check == "in_range":
        return (
            f"Column {name!r} has {_values(count)} outside [{spec.min:g}, {spec.max:g}] "
            f"(e.g. {shown})."
            if spec.min is not None and spec.max is not None
            else f"Column {name!r} has {_values(count)} out of range (e.g. {shown})."
        )
    if check == "allowed_categories":
        return f"Column {name!r} has {_values(count)} not among its categories (e.g. {shown})."
    if check == "unique":
        return (
            f"Column {name!r} has {count} repeated value{'s' if count != 1 else ''} (e.g. {shown})."
        )
    return f"Column {name!r} fails check {check!r} ({shown})."
