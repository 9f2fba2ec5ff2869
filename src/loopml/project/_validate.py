"""``loopml validate``: check a dataset version or a file against the data contract; and
``loopml data clean``: what the charter's cleaning would change on it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loopml.data import ValidationReport, validate
from loopml.data._clean import CleaningReport, CoerceErrors, clean_frame, plan_cleaning
from loopml.data._files import check_file
from loopml.data._scan import ParquetColumns, needs_chunking
from loopml.data._validate_chunked import validate_columns, write_quarantine
from loopml.errors import InvalidInputError
from loopml.project._ingest import load_dataset, read_source
from loopml.project._project import Project, user_path

Progress = Callable[[str, float], None]


@dataclass
class ValidateOutcome:
    """The validation report, what it was run on, and where quarantined rows were written."""

    report: ValidationReport
    data: str
    policy: str
    quarantine_path: str | None = None
    chunked: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "data": self.data,
            "policy": self.policy,
            "quarantine": self.quarantine_path,
            "chunked": self.chunked,
            **self.report.to_dict(),
        }


def validate_data(
    project: Project,
    data: str | Path | None = None,
    *,
    version_id: str | None = None,
    require_target: bool = True,
    chunked: bool | None = None,
    progress: Progress | None = None,
) -> ValidateOutcome:
    """Validate ``data`` (a file), or a dataset version (default: the newest, ingesting the
    charter's source first when nothing has been ingested), against ``contract.yaml``.

    A CSV or Parquet file too big to load (:func:`~loopml.data._scan.needs_chunking`), or any
    such file with ``chunked=True``, is checked a batch of rows at a time in bounded memory, with
    the same report. Under the ``quarantine`` policy the bad rows are written with their reasons
    to ``.loopml/quarantine/`` (``quarantine_path``); nothing else is written.

    Raises:
        InvalidInputError: ``chunked=True`` without a file.
        DataError: the file cannot be read.
    """
    policy = project.charter.validation
    if data is None and chunked:
        raise InvalidInputError(
            "Chunked validation reads a file; dataset versions are checked in memory.",
            hint="Pass --data FILE with --chunked.",
        )
    if data is not None:
        path = check_file(user_path(data))
        if chunked or (chunked is None and needs_chunking(path)):
            return _validate_in_chunks(project, path, require_target, progress)
        frame, _source = read_source(project, data)
        label = str(path)
    else:
        version, frame = load_dataset(project, version_id)
        label = f"dataset version {version.id}"
    report = validate(frame, project.contract(), require_target=require_target)
    written = None
    if policy == "quarantine" and len(report.bad_rows):
        written = _quarantine_path(project, label)
        report.quarantine(frame).to_csv(written, index=False)
    return ValidateOutcome(
        report=report,
        data=label,
        policy=policy,
        quarantine_path=None if written is None else str(written),
    )


def _validate_in_chunks(
    project: Project, path: Path, require_target: bool, progress: Progress | None
) -> ValidateOutcome:
    policy = project.charter.validation
    with ParquetColumns(path) as table:
        report = validate_columns(
            table, project.contract(), require_target=require_target, progress=progress
        )
        written = None
        if policy == "quarantine" and len(report.bad_rows):
            written = _quarantine_path(project, str(path))
            write_quarantine(table, report, written)
    return ValidateOutcome(
        report=report,
        data=str(path),
        policy=policy,
        quarantine_path=None if written is None else str(written),
        chunked=True,
    )


def _quarantine_path(project: Project, label: str) -> Path:
    project.paths.quarantine.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    name = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in Path(label).name)
    return project.paths.quarantine / f"validate-{name}-{stamp}.csv"


@dataclass
class CleanOutcome:
    """What the charter's cleaning would change on some data (nothing is stored)."""

    report: CleaningReport
    data: str

    def to_dict(self) -> dict[str, Any]:
        return {"data": self.data, **self.report.to_dict()}


def preview_cleaning(
    project: Project, data: str | Path | None = None, *, version_id: str | None = None
) -> CleanOutcome:
    """Run the charter's ``cleaning`` section on ``data`` (a file) or a dataset version
    (default: the newest) and report what each step would change. Bounds and fill values are
    learned on all the rows given here; training learns them on its training rows only (its run
    logs the exact report as ``cleaning.json``).

    Raises:
        DataError: the cleaning section names a column not in the data, a value cannot be
            coerced under the ``fail`` validation policy, or a fill value cannot be learned.
    """
    if data is not None:
        frame, _source = read_source(project, data)
        label = str(user_path(data))
    else:
        version, frame = load_dataset(project, version_id)
        label = f"dataset version {version.id}"
    plan = plan_cleaning(project.charter.cleaning, project.contract(), frame)
    errors: CoerceErrors = "raise" if project.charter.validation == "fail" else "null"
    _cleaned, report, _transformer = clean_frame(frame, plan, errors=errors)
    return CleanOutcome(report=report, data=label)
