"""Validating a table too big to load, a batch of rows at a time, with the same outcome as
:func:`~loopml.data.validate` on the whole frame.

Each batch runs the contract's row checks (dtype, range, categories) through the same pandera
schema; the checks that concern the whole table are done across batches: the share of missing
values is summed over all rows, and uniqueness is checked on the whole column (one column in
memory at a time). Leakage and target warnings come from an evenly spread sample of rows.
Bad rows can then be written, with their reasons, by :func:`write_quarantine`, batch by batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandera.errors import SchemaErrors

from loopml.data._contract import DataContract
from loopml.data._leakage import check_leakage
from loopml.data._report import REASON_COLUMN, ROW_CHECKS, ValidationReport, Violation
from loopml.data._scan import BLOCK_ROWS, Columns
from loopml.data._validate import (
    _CHECK_NAMES,
    _jsonable,
    _message,
    _violations,
    compile_schema,
)

SAMPLE_ROWS = 200_000
"""Rows (evenly spread) the leakage and target warnings of a chunked validation look at."""
_N_EXAMPLES = 5
Progress = Callable[[str, float], None]


@dataclass
class _Found:
    """One (column, check) failure, accumulated over batches."""

    column: str
    check: str
    rows: list[int] = field(default_factory=list)
    examples: list[Any] = field(default_factory=list)

    def add_examples(self, values: list[Any]) -> None:
        for value in values:
            if value not in self.examples and len(self.examples) < _N_EXAMPLES:
                self.examples.append(value)


def _per_batch(contract: DataContract) -> DataContract:
    """``contract`` without the checks that concern the whole table (null share, uniqueness)."""
    columns = [
        c.model_copy(update={"max_null_share": 1.0, "unique": False}) for c in contract.columns
    ]
    return contract.model_copy(update={"columns": columns})


def validate_columns(
    table: Columns,
    contract: DataContract,
    *,
    require_target: bool = False,
    rows: int = BLOCK_ROWS,
    progress: Progress | None = None,
) -> ValidationReport:
    """Check ``table`` against ``contract`` in batches of ``rows`` rows; the report equals
    :func:`~loopml.data.validate`'s on the whole table (warnings aside: they come from a sample
    of ``SAMPLE_ROWS`` rows)."""
    report = progress or (lambda step, fraction: None)
    schema = compile_schema(_per_batch(contract), require_target=require_target)
    checked = [c for c in contract.names if c in table.names]
    found: dict[tuple[str, str], _Found] = {}
    nulls = dict.fromkeys(checked, 0)
    step = max(1, table.n_rows // SAMPLE_ROWS)
    samples: list[pd.DataFrame] = []
    start = 0
    for batch in table.blocks(table.names, rows):
        report(f"rows {start:,}-{start + len(batch):,}", 0.9 * start / max(table.n_rows, 1))
        batch = batch.reset_index(drop=True)
        try:
            schema.validate(batch, lazy=True)
        except SchemaErrors as exc:
            violations, _reasons = _violations(exc.failure_cases, batch, contract)
            _merge(found, exc.failure_cases, violations, start)
        for name in checked:
            nulls[name] += int(batch[name].isna().sum())
        if require_target:
            samples.append(batch.iloc[(-start) % step :: step])
        start += len(batch)
    report("uniqueness and missing values", 0.9)
    for spec in contract.columns:
        if spec.name not in checked:
            continue
        if spec.unique:
            _unique(found, table.column(spec.name), spec.name)
        share = nulls[spec.name] / table.n_rows if table.n_rows else 0.0
        if share > spec.max_null_share:
            found[(spec.name, "max_null_share")] = _Found(spec.name, "max_null_share")
    violations, reasons = _finish(found, contract, nulls, table.n_rows)
    sample = pd.concat(samples, ignore_index=True) if samples else None
    return ValidationReport(
        ok=not violations,
        n_rows=table.n_rows,
        violations=violations,
        bad_rows=np.array(sorted(reasons), dtype=np.int64),
        extra_columns=[c for c in table.names if c not in set(contract.names)],
        row_reasons=reasons,
        warnings=check_leakage(sample, contract) if sample is not None else [],
    )


def _merge(
    found: dict[tuple[str, str], _Found],
    cases: pd.DataFrame,
    violations: list[Violation],
    offset: int,
) -> None:
    """Add one batch's violations (rows shifted by ``offset``) to ``found``."""
    pandera_name = {ours: theirs for theirs, ours in _CHECK_NAMES.items()}
    for violation in violations:
        key = (violation.column, violation.check)
        entry = found.setdefault(key, _Found(*key))
        if violation.check in ROW_CHECKS:
            check = pandera_name.get(violation.check, violation.check)
            picked = cases[
                (cases["column"].astype(str) == violation.column) & (cases["check"] == check)
            ]
            entry.rows += sorted({int(i) + offset for i in picked["index"].dropna()})
            entry.add_examples(violation.examples)


def _unique(found: dict[tuple[str, str], _Found], column: pd.Series, name: str) -> None:
    repeated = column.duplicated(keep="first") & column.notna()
    rows = np.flatnonzero(repeated.to_numpy())
    if len(rows):
        entry = found.setdefault((name, "unique"), _Found(name, "unique"))
        entry.rows = rows.tolist()
        entry.add_examples([_jsonable(v) for v in column.iloc[rows[:50]]])


def _finish(
    found: dict[tuple[str, str], _Found],
    contract: DataContract,
    nulls: dict[str, int],
    n_rows: int,
) -> tuple[list[Violation], dict[int, list[str]]]:
    """The merged violations in :func:`validate`'s order, and each bad row's reasons."""
    order = {name: i for i, name in enumerate(contract.names)}
    violations: list[Violation] = []
    reasons: dict[int, list[str]] = {}
    ordered = sorted(found.items(), key=lambda item: (order.get(item[0][0], -1), item[0][1]))
    for (column, check), entry in ordered:
        spec = contract.column(column) if column in order else None
        count = len(entry.rows)
        if check == "max_null_share" and spec is not None:
            message = (
                f"Column {column!r} has {nulls[column] / n_rows:.1%} missing values; the contract "
                f"allows at most {spec.max_null_share:.1%}."
            )
        else:
            message = _message(spec, check, count, entry.examples, pd.DataFrame())
        violations.append(
            Violation(
                column=column,
                check=check,
                count=count or 1,
                message=message,
                examples=entry.examples if check in ROW_CHECKS else [],
                rows=entry.rows[:_N_EXAMPLES],
            )
        )
        for row in entry.rows:
            reasons.setdefault(row, []).append(f"{column}: {check}")
    return violations, reasons


def write_quarantine(
    table: Columns, report: ValidationReport, path: str | Path, *, rows: int = BLOCK_ROWS
) -> int:
    """Write the bad rows of ``table`` with their reasons (column ``_loopml_reason``) to the CSV
    file ``path``, a batch at a time; returns how many rows were written."""
    bad = report.bad_rows
    written = 0
    start = 0
    header = True
    for batch in table.blocks(table.names, rows):
        stop = start + len(batch)
        lo, hi = np.searchsorted(bad, [start, stop])
        if hi > lo:
            picked = bad[lo:hi]
            out = batch.iloc[picked - start].copy()
            out[REASON_COLUMN] = ["; ".join(report.row_reasons[int(i)]) for i in picked]
            out.to_csv(path, mode="w" if header else "a", header=header, index=False)
            header = False
            written += len(out)
        start = stop
    return written
