"""``loopml ui``: the web dashboard over the project's store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from loopml.cli._common import ProjectOption, handle_errors, say


@handle_errors
def ui_command(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    project: ProjectOption = Path("."),
) -> None:
    """Open the web dashboard: data versions, runs (searchable), models with gates and reports,
    deployments, monitoring over time, alerts and the audit log."""
    from loopml.project import Project
    from loopml.serve import serve
    from loopml.ui import build_ui

    with Project.open(project) as opened:
        app = build_ui(opened)
        say(f"loopml UI for {opened.name} on http://{host}:{port}")
        serve(app, host=host, port=port)
