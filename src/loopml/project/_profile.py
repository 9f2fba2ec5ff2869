"""``loopml profile``: the profile (EDA) report of a dataset version or a file, as HTML + JSON."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loopml.data import DataContract, DataProfile, profile_frame, read_table
from loopml.data._files import check_file
from loopml.data._profile import Progress, profile_columns
from loopml.data._scan import ParquetColumns, needs_chunking
from loopml.errors import InvalidInputError
from loopml.project._ingest import load_dataset, read_source
from loopml.project._project import Project, user_path
from loopml.reports import write_report


@dataclass
class ProfileOutcome:
    """The profile, what it describes, and where its HTML and JSON files were written."""

    profile: DataProfile
    data: str
    report_html: Path
    report_json: Path

    def to_dict(self) -> dict[str, Any]:
        return {
            "data": self.data,
            "report_html": str(self.report_html),
            "report_json": str(self.report_json),
            **self.profile.to_dict(),
        }


def _write(profile: DataProfile, label: str, folder: Path) -> ProfileOutcome:
    html = write_report(folder / "profile.html", profile.to_html())
    json_path = write_report(folder / "profile.json", profile.to_json() + "\n")
    return ProfileOutcome(profile, label, html, json_path)


def profile(
    project: Project,
    data: str | Path | None = None,
    *,
    version_id: str | None = None,
    output: str | Path | None = None,
    progress: Progress | None = None,
    chunked: bool | None = None,
) -> ProfileOutcome:
    """Profile ``data`` (a file) or a dataset version (default: the newest) with the project's
    contract (roles, target, time column) when there is one; write ``profile.html`` and
    ``profile.json`` to ``output`` (default ``.loopml/reports/profile-<version>``).

    A CSV or Parquet file too big to load (:func:`~loopml.data._scan.needs_chunking`), or any
    such file with ``chunked=True``, is profiled a column or a batch of rows at a time in
    bounded memory, with the same statistics.

    Raises:
        NotFoundError: ``version_id`` matches no version.
        InvalidInputError: ``chunked=True`` without a file.
        DataError: the data cannot be read or has no rows.
    """
    contract: DataContract | None = None
    if project.paths.contract.is_file():
        contract = project.contract()
    if data is None and chunked:
        raise InvalidInputError(
            "Chunked profiling reads a file; dataset versions are profiled in memory.",
            hint="Pass --data FILE with --chunked.",
        )
    if data is not None:
        path = check_file(user_path(data))
        folder = user_path(output) if output is not None else None
        folder = folder or project.paths.reports / f"profile-{path.stem}"
        if chunked or (chunked is None and needs_chunking(path)):
            with ParquetColumns(path) as table:
                known = contract is not None and set(contract.names) <= set(table.names)
                result = profile_columns(
                    table,
                    contract=contract if known else None,
                    target=None if known else _present(project.charter.target, table.names),
                    time_column=None
                    if known
                    else _present(project.charter.time_column, table.names),
                    title=f"Data profile: {project.name}",
                    progress=progress,
                )
            return _write(result, str(path), folder)
        frame, _ = read_source(project, data)
        label = str(user_path(data))
        default = project.paths.reports / f"profile-{user_path(data).stem}"
    else:
        version, frame = load_dataset(project, version_id)
        label = f"dataset version {version.id}"
        default = project.paths.reports / f"profile-{version.id}"
    if contract is not None and not set(contract.names) <= {str(c) for c in frame.columns}:
        contract = None  # a file with other columns: profile it on its own terms
    result = profile_frame(
        frame,
        contract=contract,
        target=None if contract else _present(project.charter.target, frame.columns),
        time_column=None if contract else _present(project.charter.time_column, frame.columns),
        title=f"Data profile: {project.name}",
        progress=progress,
    )
    folder = user_path(output) if output is not None else default
    return _write(result, label, folder)


def _present(name: str | None, columns: Any) -> str | None:
    return name if name is not None and name in {str(c) for c in columns} else None


def profile_file(
    path: str | Path,
    output: str | Path,
    *,
    target: str | None = None,
    progress: Progress | None = None,
    chunked: bool | None = None,
) -> ProfileOutcome:
    """Profile a file outside any project; write ``profile.html`` and ``profile.json`` to
    ``output``. Big CSV/Parquet files (or any with ``chunked=True``) are profiled in chunks,
    as in :func:`profile`.

    Raises:
        DataError: the file cannot be read or has no rows.
        InvalidInputError: ``target`` is not a column of the file.
    """
    source = check_file(user_path(path))
    if chunked or (chunked is None and needs_chunking(source)):
        with ParquetColumns(source) as table:
            result = profile_columns(
                table, target=target, title=f"Data profile: {source.name}", progress=progress
            )
        return _write(result, str(source), user_path(output))
    frame = read_table(source)
    result = profile_frame(
        frame, target=target, title=f"Data profile: {source.name}", progress=progress
    )
    return _write(result, str(source), user_path(output))
