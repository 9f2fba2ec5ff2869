"""``loopml gc``: remove artifacts no record refers to (a dry run unless --yes)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from loopml._constants import DEFAULT_MIN_AGE_S
from loopml.cli._common import JsonOption, ProjectOption, console, handle_errors, print_json, say


@handle_errors
def gc_command(
    yes: Annotated[bool, typer.Option("--yes", help="Delete them (default: only list).")] = False,
    min_age: Annotated[
        float, typer.Option(help="Keep artifacts written less than this many seconds ago.")
    ] = DEFAULT_MIN_AGE_S,
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """List artifacts that no dataset, run, model or monitoring report refers to, with their
    size; --yes deletes them."""
    from loopml.project import Project
    from loopml.registry import collect_garbage

    with Project.open(project) as opened:
        report = collect_garbage(
            opened.store, opened.artifacts, [opened.name], delete=yes, min_age_s=min_age
        )
    if json:
        print_json(report.to_dict())
        return
    if report.unreferenced:
        table = Table("artifact", "bytes")
        for digest, size in report.unreferenced.items():
            table.add_row(digest, f"{size:,}")
        console.print(table)
    verb = "Deleted" if report.deleted else "Would delete"
    say(
        f"{verb} {len(report.unreferenced)} unreferenced artifact(s), {report.bytes:,} bytes "
        f"({report.referenced} referenced, {report.kept_recent} too recent to collect)."
    )
    if report.unreferenced and not report.deleted:
        say("Run `loopml gc --yes` to delete them.")
