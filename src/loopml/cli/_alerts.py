"""``loopml alerts``: the history of alerts that fired, newest first."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from loopml.cli._common import JsonOption, ProjectOption, console, handle_errors, print_json, say
from loopml.cli._monitor import TIME_FORMATS


@handle_errors
def alerts_command(
    rule: Annotated[str | None, typer.Option(help="Only this rule's alerts.")] = None,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Only alerts of this model name.")
    ] = None,
    since: Annotated[
        datetime | None, typer.Option(formats=TIME_FORMATS, help="Only alerts since (UTC).")
    ] = None,
    limit: Annotated[int, typer.Option(help="How many, newest first.", min=1)] = 50,
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """List the alerts that fired (rules in the charter's alerts section), newest first."""
    from loopml.project import Project

    with Project.open(project) as opened:
        found = opened.store.alerts.list(
            opened.name, rule=rule, model_name=model, since=since, limit=limit
        )
    if json:
        print_json(
            [
                {
                    "id": a.id,
                    "time": a.time.isoformat(),
                    "rule": a.rule,
                    "severity": a.severity,
                    "model": f"{a.model_name}:{a.model_version}" if a.model_name else None,
                    "metric": a.metric,
                    "value": a.value,
                    "threshold": a.threshold,
                    "message": a.message,
                    "channels": a.channels,
                }
                for a in found
            ]
        )
        return
    if not found:
        say("No alert has fired.")
        return
    table = Table("time", "severity", "rule", "metric", "value", "threshold", "sent to")
    for a in found:
        table.add_row(
            a.time.strftime("%Y-%m-%d %H:%M:%S"),
            a.severity,
            a.rule,
            a.metric,
            f"{a.value:.4g}" if a.value is not None else "",
            f"{a.threshold:.4g}" if a.threshold is not None else "",
            ", ".join(a.channels) or "(none delivered)",
        )
    console.print(table)
