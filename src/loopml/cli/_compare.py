"""``loopml compare A B``: champion vs challenger on the same rows, with paired tests."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from loopml.cli._common import JsonOption, ProjectOption, console, handle_errors, print_json, say


@handle_errors
def compare_command(
    a: Annotated[str, typer.Argument(help="Model A: NAME:VERSION or NAME@ALIAS.")],
    b: Annotated[str, typer.Argument(help="Model B: NAME:VERSION or NAME@ALIAS.")],
    data: Annotated[
        Path | None,
        typer.Option("--data", "-d", help="Labelled file (default: the newer one's holdout)."),
    ] = None,
    metric: Annotated[
        str | None, typer.Option(help="Metric to judge on (default: the charter's).")
    ] = None,
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """Compare two model versions on the same data: paired tests and a verdict."""
    from loopml.project import Project
    from loopml.project._compare import compare

    with Project.open(project) as opened:
        outcome = compare(opened, a, b, data=data, metric=metric)
    if json:
        print_json(outcome.to_dict())
        return
    c = outcome.comparison
    table = Table("metric", c.ref_a, c.ref_b, title=f"{c.n_rows:,} rows of {outcome.data}")
    for name in c.metrics_a:
        if name in c.metrics_b:
            table.add_row(name, f"{c.metrics_a[name]:.4f}", f"{c.metrics_b[name]:.4f}")
    console.print(table)
    for name, result in c.tests.items():
        say(f"  {name}: p = {result['p_value']:.3g}")
    say(f"[bold]{c.verdict}[/]: {c.message}")
