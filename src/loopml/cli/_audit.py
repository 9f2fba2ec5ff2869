"""``loopml audit``: the immutable history of changes (who, when, what, why)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from loopml.cli._common import JsonOption, ProjectOption, console, handle_errors, print_json


@handle_errors
def audit_command(
    target: Annotated[
        str | None,
        typer.Argument(help="NAME, NAME:VERSION or NAME@ALIAS (default: everything)."),
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Only the newest N events.")] = None,
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """Show audit events, oldest first: registrations, alias moves, approvals, rollbacks,
    archives, retraining decisions."""
    from loopml.project import Project

    with Project.open(project) as opened:
        events = opened.store.audit.list(target=target, limit=limit)
    if json:
        print_json(
            [
                {
                    "id": e.id,
                    "time": e.time.isoformat(),
                    "actor": e.actor,
                    "action": e.action,
                    "target": e.target,
                    "reason": e.reason,
                    "details": e.details,
                }
                for e in events
            ]
        )
        return
    table = Table("time", "actor", "action", "target", "reason", "details")
    for e in events:
        details = ", ".join(f"{k}={v}" for k, v in e.details.items() if v not in (None, [], ""))
        table.add_row(
            e.time.strftime("%Y-%m-%d %H:%M:%S"), e.actor, e.action, e.target, e.reason, details
        )
    console.print(table)
