"""The outcome of validating data against its contract, and what to do about it (policies).

A :class:`ValidationReport` lists :class:`Violation` s. Row-level ones (a value of the wrong type,
out of range, an unknown category, a repeated key) name the offending rows, which can be set aside
(quarantined); dataset-level ones (a missing column, too many missing values) cannot be fixed by
dropping rows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from loopml.data._leakage import DataWarning
from loopml.errors import DataError, InvalidInputError

logger = logging.getLogger("loopml.data")

ROW_CHECKS = frozenset({"dtype", "in_range", "allowed_categories", "unique"})
"""Checks whose failures point at rows (the rest concern the whole dataset)."""
REASON_COLUMN = "_loopml_reason"


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
    lists columns not in the contract (allowed, reported for information); ``warnings`` holds
    leakage and target findings (see :mod:`loopml.data._leakage`), which do not make it fail.
    """

    ok: bool
    n_rows: int
    violations: list[Violation]
    bad_rows: np.ndarray
    extra_columns: list[str] = field(default_factory=list)
    row_reasons: dict[int, list[str]] = field(default_factory=dict, repr=False)
    warnings: list[DataWarning] = field(default_factory=list)

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
            "warnings": [w.to_dict() for w in self.warnings],
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
