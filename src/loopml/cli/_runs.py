"""``loopml runs``: list, show, search and compare tracked runs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from loopml.cli._common import JsonOption, ProjectOption, console, handle_errors, print_json, say

if TYPE_CHECKING:
    from loopml.store import Run

runs_app = typer.Typer(help="Tracked runs.", no_args_is_help=True)


def _summary(run: Run) -> dict[str, Any]:
    return {
        "id": run.id,
        "name": run.name,
        "kind": run.kind,
        "status": run.status,
        "parent_id": run.parent_id,
        "dataset": run.dataset_id,
        "metrics": run.metrics,
        "start_time": run.start_time.isoformat(),
    }


def _print_runs(runs: list[Run], metrics: list[str] | None = None) -> None:
    table = Table("run", "name", "kind", "status", "metrics", "started")
    for r in runs:
        keys = [k for k in (metrics or []) if k in r.metrics] or list(r.metrics)[:3]
        shown = ", ".join(f"{k} {r.metrics[k]:.4f}" for k in keys)
        table.add_row(
            r.id[:12], r.name, r.kind, r.status, shown, r.start_time.strftime("%Y-%m-%d %H:%M:%S")
        )
    console.print(table)


@runs_app.command("list")
@handle_errors
def runs_list(
    kind: Annotated[
        str | None, typer.Option(help="train, candidate, retrain, batch_predict …")
    ] = None,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """List tracked runs, newest first."""
    from loopml.project import Project

    with Project.open(project) as opened:
        runs = opened.store.runs.list(opened.name, kind=kind, limit=limit)
    if json:
        print_json([_summary(r) for r in runs])
        return
    _print_runs(runs)


@runs_app.command("show")
@handle_errors
def runs_show(
    run_id: Annotated[str, typer.Argument(help="Run id or a unique prefix of it.")],
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """Show a run's params, metrics, tags and artifacts."""
    from loopml.project import Project

    with Project.open(project) as opened:
        run = opened.store.runs.get(run_id)
    payload = {
        "id": run.id,
        "name": run.name,
        "kind": run.kind,
        "status": run.status,
        "parent_id": run.parent_id,
        "dataset": run.dataset_id,
        "params": run.params,
        "metrics": run.metrics,
        "tags": run.tags,
        "artifacts": run.artifacts,
        "start_time": run.start_time.isoformat(),
        "end_time": run.end_time.isoformat() if run.end_time else None,
    }
    if json:
        print_json(payload)
        return
    for key, value in payload.items():
        say(f"[bold]{key}[/]: {value}")


@runs_app.command("search")
@handle_errors
def runs_search(
    filter_text: Annotated[
        str,
        typer.Argument(
            metavar="FILTER",
            help="e.g. \"metrics.roc_auc > 0.8 and params.family = 'lightgbm'\" "
            "(fields: metrics.KEY, params.KEY, tags.KEY, run_id, name, kind, status, "
            "dataset_id, parent_id, start_time, end_time; ops: = != < <= > >= [NOT] LIKE, "
            "[NOT] ILIKE, [NOT] IN (...), IS [NOT] NULL; and/or/not/parentheses). "
            "Empty: every run.",
        ),
    ] = "",
    order_by: Annotated[
        list[str] | None,
        typer.Option(
            "--order-by",
            help="metrics.KEY, start_time or end_time, optionally 'asc'/'desc' (repeatable; "
            "metrics default to highest first).",
        ),
    ] = None,
    limit: Annotated[int, typer.Option(help="How many runs at most.")] = 20,
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """Search runs with a filter, ordered by metrics or time."""
    from loopml.project import Project

    with Project.open(project) as opened:
        runs = opened.store.runs.search(
            opened.name, filter_text or None, order_by=order_by, limit=limit
        )
    if json:
        print_json([{**_summary(r), "params": r.params} for r in runs])
        return
    ordering = [key.split()[0].removeprefix("metrics.") for key in order_by or []]
    _print_runs(runs, metrics=ordering)
    if not runs:
        say("No run matches.")


@runs_app.command("compare")
@handle_errors
def runs_compare(
    run_ids: Annotated[list[str], typer.Argument(help="Two or more run ids (or unique prefixes).")],
    html: Annotated[
        Path | None,
        typer.Option(help="Also write an HTML report with metric histories as charts here."),
    ] = None,
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """Compare runs side by side: params (differences marked) and metrics."""
    from loopml.project import Project
    from loopml.reports import format_number
    from loopml.tracking import compare_runs

    with Project.open(project) as opened:
        comparison = compare_runs(opened.store, run_ids)
    written = comparison.write_html(html) if html is not None else None
    if json:
        payload = comparison.to_dict()
        payload["html"] = str(written) if written else None
        print_json(payload)
        return
    differing = set(comparison.differing_params())
    table = Table("", *[f"{r.name}\n{r.id[:12]}" for r in comparison.runs], title="Run comparison")
    for key in comparison.param_keys:
        label = f"[yellow]params.{key}[/]" if key in differing else f"params.{key}"
        table.add_row(label, *[format_number(r.params.get(key)) for r in comparison.runs])
    if comparison.param_keys and comparison.metric_keys:
        table.add_section()
    for key in comparison.metric_keys:
        table.add_row(
            f"metrics.{key}", *[format_number(r.metrics.get(key)) for r in comparison.runs]
        )
    console.print(table)
    if written is not None:
        say(f"Report: {written}")
