"""Checking a DataFrame against its data contract, with pandera.

The contract compiles once into a :class:`pandera.pandas.DataFrameSchema` (cached per contract)
whose checks run lazily, so one pass collects every failure. Row-level violations (a value of the
wrong type, out of range, an unknown category, a repeated key) name the offending rows, which can
be quarantined; dataset-level violations (a missing column, too many missing values) cannot be
fixed by dropping rows.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from loopml.data._contract import ColumnSpec, DataContract
from loopml.data._infer import parse_datetimes
from loopml.errors import DataError, InvalidInputError

logger = logging.getLogger("loopml.data")

ROW_CHECKS = frozenset({"dtype", "in_range", "allowed_categories", "unique"})
"""Checks whose failures point at rows (the rest concern the whole dataset)."""
REASON_COLUMN = "_loopml_reason"
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


@dataclass(frozen=True)
class Violation:
    """One broken rule: which column, which check, how many values, a few examples."""

    column: str
    check: str
    count: int
    message: str
    examples: list[Any] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)

    @property
    def row_level(self) -> bool:
        return self.check in ROW_CHECKS

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "check": self.check,
            "count": self.count,
            "message": self.message,
            "examples": self.examples,
            "rows": self.rows,
        }


@dataclass
class ValidationReport:
    """The outcome of :func:`validate` on a frame of ``n_rows`` rows.

    ``bad_rows`` holds the (sorted, positional) rows breaking a row-level check; ``extra_columns``
    lists columns not in the contract (allowed, reported for information).
    """

    ok: bool
    n_rows: int
    violations: list[Violation]
    bad_rows: np.ndarray
    extra_columns: list[str] = field(default_factory=list)
    row_reasons: dict[int, list[str]] = field(default_factory=dict, repr=False)

    @property
    def dataset_violations(self) -> list[Violation]:
        return [v for v in self.violations if not v.row_level]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "n_rows": self.n_rows,
            "n_bad_rows": len(self.bad_rows),
            "violations": [v.to_dict() for v in self.violations],
            "extra_columns": self.extra_columns,
        }

    def summary(self, limit: int = 3) -> str:
        """The first ``limit`` violation messages in one line."""
        if self.ok:
            return f"All {self.n_rows} rows meet the data contract."
        shown = " ".join(v.message for v in self.violations[:limit])
        more = len(self.violations) - limit
        return shown + (f" (and {more} more)" if more > 0 else "")

    def _check_frame(self, df: pd.DataFrame) -> None:
        if len(df) != self.n_rows:
            raise InvalidInputError(
                f"The report is about {self.n_rows} rows but the frame has {len(df)}.",
                hint="Pass the frame that was validated.",
            )

    def good(self, df: pd.DataFrame) -> pd.DataFrame:
        """The rows of ``df`` (the validated frame) that break no row-level check."""
        self._check_frame(df)
        keep = np.ones(len(df), dtype=bool)
        keep[self.bad_rows] = False
        return df.iloc[keep]

    def quarantine(self, df: pd.DataFrame) -> pd.DataFrame:
        """The bad rows of ``df`` with a ``_loopml_reason`` column saying what each breaks."""
        self._check_frame(df)
        bad = df.iloc[self.bad_rows].copy()
        bad[REASON_COLUMN] = ["; ".join(self.row_reasons[int(i)]) for i in self.bad_rows]
        return bad


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
    data: decide what to do with :func:`enforce`).

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


def enforce(
    report: ValidationReport,
    policy: Literal["fail", "warn", "quarantine"],
    df: pd.DataFrame,
) -> pd.DataFrame:
    """The rows of ``df`` to keep under ``policy``.

    ``fail``: all rows if the report is ok, else raise. ``warn``: all rows, logging a warning
    when not ok. ``quarantine``: the good rows (see :meth:`ValidationReport.quarantine` for the
    rest); dataset-level violations still raise, since dropping rows cannot fix them.

    Raises:
        DataError: the data breaks the contract (``fail``), or a dataset-level check fails
            (``quarantine``); ``details`` holds the report.
        InvalidInputError: unknown policy, or ``df`` is not the validated frame.
    """
    if policy not in ("fail", "warn", "quarantine"):
        raise InvalidInputError(
            f"Unknown validation policy {policy!r}.", hint="Use fail, warn or quarantine."
        )
    report._check_frame(df)
    if report.ok:
        return df
    if policy == "warn":
        logger.warning("The data breaks its contract: %s", report.summary())
        return df
    if policy == "fail" or report.dataset_violations:
        broken = report.violations if policy == "fail" else report.dataset_violations
        raise DataError(
            f"The data breaks its contract in {len(broken)} way(s): "
            + ValidationReport(False, report.n_rows, broken, report.bad_rows).summary(),
            hint="Fix the data or edit contract.yaml"
            + (
                ", or use the quarantine policy to set bad rows aside." if policy == "fail" else "."
            ),
            details=report.to_dict(),
        )
    logger.info("Quarantined %d of %d rows.", len(report.bad_rows), report.n_rows)
    return report.good(df)
