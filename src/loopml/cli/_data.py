"""``loopml data …`` (dataset versions: list, show, diff, dictionary, clean) and
``loopml profile``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from loopml.cli._common import (
    JsonOption,
    ProjectOption,
    console,
    handle_errors,
    print_json,
    progress_bar,
    say,
)
from loopml.errors import InvalidInputError, NotFoundError

if TYPE_CHECKING:
    from loopml.project._profile import ProfileOutcome
    from loopml.store import DatasetVersion

data_app = typer.Typer(help="Dataset versions.", no_args_is_help=True)


def _version_dict(v: DatasetVersion) -> dict[str, Any]:
    return {
        "id": v.id,
        "rows": v.n_rows,
        "columns": v.n_columns,
        "parent": v.parent_id,
        "source": v.source,
        "created_at": v.created_at.isoformat(),
    }


@data_app.command("list")
@handle_errors
def data_list(project: ProjectOption = Path("."), json: JsonOption = False) -> None:
    """List dataset versions, oldest first."""
    from loopml.project import Project

    with Project.open(project) as opened:
        versions = opened.store.datasets.list(opened.name)
    if json:
        print_json([_version_dict(v) for v in versions])
        return
    table = Table("version", "rows", "columns", "parent", "source", "created")
    for v in versions:
        source = v.source.get("path") or v.source.get("url") or v.source.get("kind", "")
        table.add_row(
            v.id,
            str(v.n_rows),
            str(v.n_columns),
            v.parent_id or "",
            str(source),
            v.created_at.strftime("%Y-%m-%d %H:%M"),
        )
    console.print(table)


@data_app.command("show")
@handle_errors
def data_show(
    version: Annotated[str, typer.Argument(help="Dataset version id.")],
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """Show one dataset version: rows, columns, schema, source and parent."""
    from loopml.project import Project

    with Project.open(project) as opened:
        found = opened.store.datasets.get(opened.name, version)
    payload = {**_version_dict(found), "content_hash": found.content_hash, "schema": found.schema}
    if json:
        print_json(payload)
        return
    for key in ("id", "rows", "columns", "parent", "source", "created_at", "content_hash"):
        say(f"[bold]{key}[/]: {payload[key]}")
    table = Table("column", "dtype", title="Schema")
    for column, dtype in found.schema.items():
        table.add_row(column, str(dtype))
    console.print(table)


@data_app.command("diff")
@handle_errors
def data_diff(
    before: Annotated[str, typer.Argument(help="Older dataset version id.")],
    after: Annotated[str, typer.Argument(help="Newer dataset version id.")],
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """What changed between two versions: schema, row counts, column statistics that moved."""
    from loopml.data import diff_frames
    from loopml.project import Project, load_dataset

    with Project.open(project) as opened:
        _, old = load_dataset(opened, before)
        _, new = load_dataset(opened, after)
    changes = {"before": before, "after": after, **diff_frames(old, new)}
    if json:
        print_json(changes)
        return
    rows, schema = changes["rows"], changes["schema"]
    say(f"Rows: {rows['before']:,} -> {rows['after']:,} ({rows['change']:+,})")
    for key in ("added", "removed"):
        if schema[key]:
            say(f"Columns {key}: {', '.join(schema[key])}")
    for change in schema["type_changed"]:
        say(f"Type of {change['column']}: {change['before']} -> {change['after']}")
    table = Table("column", "what moved", title="Column statistics that moved")
    for moved in changes["moved"]:
        table.add_row(moved["column"], "; ".join(moved["reasons"]))
    console.print(table)


@data_app.command("dictionary")
@handle_errors
def data_dictionary_command(
    output: Annotated[
        Path | None, typer.Option(help="Folder for the files (default: the project folder).")
    ] = None,
    version: Annotated[
        str | None, typer.Option(help="Dataset version for examples (default: newest).")
    ] = None,
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """Write the data dictionary (data-dictionary.md and .csv) from contract.yaml and the data."""
    from loopml.data import data_dictionary, write_dictionary
    from loopml.project import Project, load_dataset

    with Project.open(project) as opened:
        contract = opened.contract()
        _, frame = load_dataset(opened, version)
        rows = data_dictionary(contract, frame)
        folder = output.expanduser().resolve() if output else opened.paths.root
        files = write_dictionary(rows, folder, opened.name)
    if json:
        print_json({"columns": rows, **{k: str(v) for k, v in files.items()}})
        return
    say(f"Data dictionary of {len(rows)} columns: {files['markdown']} and {files['csv']}")


@data_app.command("clean")
@handle_errors
def data_clean(
    data: Annotated[
        Path | None, typer.Option("--data", "-d", help="File to check (default: a version).")
    ] = None,
    version: Annotated[str | None, typer.Option(help="Dataset version (default: newest).")] = None,
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """What the charter's cleaning steps would change: rows dropped, cells filled, values capped,
    coercion failures (nothing is stored)."""
    if data is not None and version is not None:
        raise InvalidInputError("Give --data or --version, not both.", hint="Check one dataset.")
    from loopml.project import Project, preview_cleaning

    with Project.open(project) as opened:
        outcome = preview_cleaning(opened, data, version_id=version)
    if json:
        print_json(outcome.to_dict())
        return
    report = outcome.report
    if not report.steps:
        say("The charter declares no cleaning steps (see cleaning: in loopml.yaml).")
        return
    table = Table("step", "what it would change", title=f"Cleaning {outcome.data}")
    for step in report.steps:
        for line in step.lines() or ["nothing"]:
            table.add_row(step.step, line)
    console.print(table)
    totals = report.totals()
    say(
        f"{report.rows_before:,} rows -> {report.rows_after:,}; "
        f"{totals['cells_filled']:,} cells filled, {totals['values_capped']:,} values capped, "
        f"{totals['coercion_failures']:,} values failed coercion."
    )


@handle_errors
def profile_command(
    data: Annotated[
        Path | None, typer.Option("--data", "-d", help="File to profile (default: a version).")
    ] = None,
    version: Annotated[
        str | None, typer.Option(help="Dataset version to profile (default: newest).")
    ] = None,
    target: Annotated[
        str | None, typer.Option(help="Target column (files outside a project).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option(help="Folder for profile.html and profile.json.")
    ] = None,
    chunked: Annotated[
        bool | None,
        typer.Option(
            "--chunked/--in-memory",
            help="Read the CSV/Parquet file a column or a batch of rows at a time, in bounded "
            "memory (default: when the file is over a quarter of the available memory).",
            show_default=False,
        ),
    ] = None,
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """Profile (EDA) report: per-column statistics, correlations, missing values, warnings."""
    if data is not None and version is not None:
        raise InvalidInputError(
            "Give --data or --version, not both.", hint="Profile one dataset at a time."
        )
    from loopml.project import Project
    from loopml.project._profile import profile, profile_file

    in_project = (project / "loopml.yaml").is_file()
    with progress_bar("Profiling", quiet=json) as update:
        if in_project:
            if target is not None:
                raise InvalidInputError(
                    "--target is for files outside a project; a project's target is in its "
                    "charter.",
                    hint="Drop --target, or edit loopml.yaml.",
                )
            with Project.open(project) as opened:
                outcome = profile(
                    opened,
                    data,
                    version_id=version,
                    output=output,
                    progress=update,
                    chunked=chunked,
                )
        elif data is not None:
            outcome = profile_file(
                data,
                output or Path("loopml-profile"),
                target=target,
                progress=update,
                chunked=chunked,
            )
        else:
            raise NotFoundError(
                f"No charter found at {project / 'loopml.yaml'}, and no --data file given.",
                hint="Pass --data FILE to profile a file, or --project DIR for a project.",
            )
    _print(outcome, json)


def _print(outcome: ProfileOutcome, json: bool) -> None:
    if json:
        print_json(outcome.to_dict())
        return
    result = outcome.profile
    say(
        f"Profiled {outcome.data}: {result.n_rows:,} rows x {result.n_columns} columns, "
        f"{result.duplicates or 0} duplicate rows, {len(result.warnings)} warnings."
    )
    for warning in result.warnings:
        say(f"  [yellow]{warning.kind}[/]: {warning.message}")
    say(f"Report: {outcome.report_html} (JSON: {outcome.report_json})")
