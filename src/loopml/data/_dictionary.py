"""The data dictionary: one row per column, from the contract and the data, as Markdown and CSV.

Descriptions come from ``contract.yaml``, where people write them; the contract is kept across
dataset versions (ingest never overwrites it), so the descriptions are too.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pandas as pd

from loopml.data._contract import ColumnSpec, DataContract
from loopml.reports import write_report

FIELDS = ("column", "type", "role", "description", "examples", "constraints")
_N_EXAMPLES = 3


def _constraints(spec: ColumnSpec) -> str:
    parts = []
    if spec.min is not None:
        parts.append(f">= {spec.min:g}")
    if spec.max is not None:
        parts.append(f"<= {spec.max:g}")
    if spec.categories:
        shown = ", ".join(spec.categories[:10]) + (", …" if len(spec.categories) > 10 else "")
        parts.append(f"one of {shown}")
    parts.append(f"missing <= {spec.max_null_share:.0%}")
    if spec.unique:
        parts.append("unique")
    if spec.sensitive:
        parts.append("sensitive")
    return "; ".join(parts)


def data_dictionary(
    contract: DataContract, frame: pd.DataFrame | None = None
) -> list[dict[str, Any]]:
    """One entry per contract column: ``column, type, role, description, examples,
    constraints`` (examples are the most frequent values in ``frame``, when given)."""
    rows = []
    for spec in contract.columns:
        examples = ""
        if frame is not None and spec.name in frame.columns:
            top = frame[spec.name].dropna().value_counts().index[:_N_EXAMPLES]
            examples = ", ".join(str(v) for v in top)
        rows.append(
            {
                "column": spec.name,
                "type": spec.dtype,
                "role": "target" if spec.name == contract.target else spec.role,
                "description": spec.description,
                "examples": examples,
                "constraints": _constraints(spec),
            }
        )
    return rows


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def write_dictionary(rows: list[dict[str, Any]], folder: Path, title: str) -> dict[str, Path]:
    """Write ``data-dictionary.md`` and ``data-dictionary.csv`` in ``folder`` (atomically)."""
    lines = [f"# Data dictionary: {title}", "", "| " + " | ".join(FIELDS) + " |"]
    lines.append("|" + "---|" * len(FIELDS))
    lines += ["| " + " | ".join(_cell(row[f]) for f in FIELDS) + " |" for row in rows]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return {
        "markdown": write_report(folder / "data-dictionary.md", "\n".join(lines) + "\n"),
        "csv": write_report(folder / "data-dictionary.csv", buffer.getvalue()),
    }
