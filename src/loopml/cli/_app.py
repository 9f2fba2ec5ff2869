"""The ``loopml`` command: one Typer app, one module per command group.

The command modules import ``loopml.project`` (and with it pandas, scikit-learn, …) inside the
commands, not at module level, so that ``loopml --help`` and errors in the arguments come back at
once; ``tests/cli/test_cli_startup.py`` checks it. Defaults and choices shown in the help come
from ``loopml._constants``.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from loopml import __version__
from loopml.cli._alerts import alerts_command
from loopml.cli._audit import audit_command
from loopml.cli._common import configure_logging
from loopml.cli._compare import compare_command
from loopml.cli._data import data_app, profile_command
from loopml.cli._demo import demo_command
from loopml.cli._deploy import deploy_app
from loopml.cli._gc import gc_command
from loopml.cli._lifecycle import (
    evaluate_command,
    ingest_command,
    init_command,
    predict_command,
    retrain_command,
    train_command,
    validate_command,
)
from loopml.cli._lineage import lineage_command
from loopml.cli._models import models_app
from loopml.cli._monitor import monitor_command
from loopml.cli._runs import runs_app
from loopml.cli._serve import package_command, serve_command
from loopml.cli._ui import ui_command

app = typer.Typer(
    name="loopml",
    help="loopml: from a charter to a self-maintaining production model, as one loop.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"loopml {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show full tracebacks for errors.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """loopml: from a charter to a self-maintaining production model, as one loop."""
    if debug:
        os.environ["LOOPML_DEBUG"] = "1"
    configure_logging()


app.command("init")(init_command)
app.command("ingest")(ingest_command)
app.command("validate")(validate_command)
app.command("train")(train_command)
app.command("evaluate")(evaluate_command)
app.command("compare")(compare_command)
app.add_typer(models_app, name="models")
app.command("audit")(audit_command)
app.add_typer(runs_app, name="runs")
app.command("lineage")(lineage_command)
app.add_typer(data_app, name="data")
app.command("profile")(profile_command)
app.command("predict")(predict_command)
app.command("serve")(serve_command)
app.add_typer(deploy_app, name="deploy")
app.command("package")(package_command)
app.command("monitor")(monitor_command)
app.command("alerts")(alerts_command)
app.command("retrain")(retrain_command)
app.command("gc")(gc_command)
app.command("ui")(ui_command)
app.command("demo")(demo_command)


def main() -> None:
    """Console-script entry point."""
    app()
