"""``loopml demo``."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from loopml.cli._common import JsonOption, handle_errors, print_json, say
from loopml.errors import AlreadyExistsError


@handle_errors
def demo_command(
    folder: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            "--project",
            "-p",
            help="Folder for the demo project (default: a new temporary one).",
        ),
    ] = None,
    time_budget: Annotated[float, typer.Option(help="Training time budget, seconds.")] = 40.0,
    json: JsonOption = False,
) -> None:
    """Run the whole loop on NYC flights 2013: train on winter, serve summer traffic over HTTP,
    detect drift, retrain, and print what happened at each step."""
    from loopml.demo import run_demo

    target = folder or Path(tempfile.mkdtemp(prefix="loopml-demo-"))
    if (target / "loopml.yaml").exists():
        raise AlreadyExistsError(
            f"{target} already holds a loopml project.", hint="Pick an empty --dir."
        )
    summary = run_demo(target, time_budget=time_budget, say=(lambda _m: None) if json else say)
    if json:
        print_json({"project": str(summary.project), "steps": summary.steps})
