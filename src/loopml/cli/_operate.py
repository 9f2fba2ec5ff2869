"""Commands of operation: models, runs, data, serve and monitor."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from loopml.cli._common import JsonOption, ProjectOption, console, handle_errors, print_json, say
from loopml.errors import InvalidInputError
from loopml.project import Project, build_app, monitor, monitor_files
from loopml.registry import CHAMPION, ModelRef

models_app = typer.Typer(
    help="Registered model versions, aliases and promotion.", no_args_is_help=True
)
runs_app = typer.Typer(help="Tracked runs.", no_args_is_help=True)
data_app = typer.Typer(help="Dataset versions.", no_args_is_help=True)


# -- models -------------------------------------------------------------------------------------
@models_app.command("list")
@handle_errors
def models_list(
    name: Annotated[str | None, typer.Argument(help="Model name (default: every model).")] = None,
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """List versions with their aliases, stage, primary metrics and gate results."""
    with Project.open(project) as opened:
        versions = opened.registry.list(name)
    if json:
        print_json(
            [
                {
                    "model": v.ref,
                    "name": v.name,
                    "version": v.version,
                    "aliases": list(v.aliases),
                    "stage": v.stage,
                    "task": v.task,
                    "metrics": v.metrics,
                    "gates": v.gates,
                    "run_id": v.run_id,
                    "dataset": v.dataset_id,
                    "created_at": v.created_at.isoformat(),
                }
                for v in versions
            ]
        )
        return
    table = Table("model", "aliases", "stage", "metrics", "gates", "created")
    for v in versions:
        shown = {k: v.metrics[k] for k in list(v.metrics)[:3]}
        passed = sum(1 for g in v.gates if g.get("passed"))
        table.add_row(
            v.ref,
            ", ".join(v.aliases),
            v.stage,
            ", ".join(f"{k} {val:.4f}" for k, val in shown.items()),
            f"{passed}/{len(v.gates)} passed",
            v.created_at.strftime("%Y-%m-%d %H:%M"),
        )
    console.print(table)


@models_app.command("show")
@handle_errors
def models_show(
    model: Annotated[str, typer.Argument(help="NAME, NAME:VERSION or NAME@ALIAS.")],
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """Show one version: metrics, gates, lineage."""
    with Project.open(project) as opened:
        version = opened.registry.get(model)
        aliases = [
            a for a, v in opened.registry.aliases(version.name).items() if v == version.version
        ]
    payload = {
        "model": version.ref,
        "aliases": aliases,
        "stage": version.stage,
        "task": version.task,
        "run_id": version.run_id,
        "dataset": version.dataset_id,
        "metrics": version.metrics,
        "gates": version.gates,
        "artifact": version.artifact,
        "description": version.description,
    }
    if json:
        print_json(payload)
        return
    for key, value in payload.items():
        say(f"[bold]{key}[/]: {value}")


@models_app.command("promote")
@handle_errors
def models_promote(
    model: Annotated[str, typer.Argument(help="NAME:VERSION to point the alias at.")],
    alias: Annotated[str, typer.Option(help="Alias to move.")] = CHAMPION,
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log).")] = "",
    by: Annotated[str, typer.Option(help="Who is promoting.")] = "cli",
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """Point an alias (default: champion) at a version; recorded in the audit log."""
    ref = ModelRef.parse(model)
    if ref.version is None:
        raise InvalidInputError(
            f"{model!r} does not name a version.", hint="Use NAME:VERSION, e.g. churn:3."
        )
    with Project.open(project) as opened:
        opened.store.models.get_version(ref.name, ref.version)
        previous = opened.registry.set_alias(
            ref.name, alias, ref.version, actor=by, reason=reason or "promoted from the CLI"
        )
    if json:
        print_json({"model": str(ref), "alias": alias, "previous": previous})
        return
    before = f" (was v{previous})" if previous else ""
    say(f"{ref.name}@{alias} -> v{ref.version}{before}")


# -- runs ---------------------------------------------------------------------------------------
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
    with Project.open(project) as opened:
        runs = opened.store.runs.list(opened.name, kind=kind, limit=limit)
    if json:
        print_json(
            [
                {
                    "id": r.id,
                    "name": r.name,
                    "kind": r.kind,
                    "status": r.status,
                    "parent_id": r.parent_id,
                    "dataset": r.dataset_id,
                    "metrics": r.metrics,
                    "start_time": r.start_time.isoformat(),
                }
                for r in runs
            ]
        )
        return
    table = Table("run", "name", "kind", "status", "metrics", "started")
    for r in runs:
        shown = ", ".join(f"{k} {v:.4f}" for k, v in list(r.metrics.items())[:3])
        table.add_row(
            r.id[:12], r.name, r.kind, r.status, shown, r.start_time.strftime("%Y-%m-%d %H:%M:%S")
        )
    console.print(table)


@runs_app.command("show")
@handle_errors
def runs_show(
    run_id: Annotated[str, typer.Argument(help="Run id or a unique prefix of it.")],
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """Show a run's params, metrics, tags and artifacts."""
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


# -- data ---------------------------------------------------------------------------------------
@data_app.command("list")
@handle_errors
def data_list(project: ProjectOption = Path("."), json: JsonOption = False) -> None:
    """List dataset versions, oldest first."""
    with Project.open(project) as opened:
        versions = opened.store.datasets.list(opened.name)
    if json:
        print_json(
            [
                {
                    "id": v.id,
                    "rows": v.n_rows,
                    "columns": v.n_columns,
                    "parent": v.parent_id,
                    "source": v.source,
                    "created_at": v.created_at.isoformat(),
                }
                for v in versions
            ]
        )
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


# -- serve & monitor ----------------------------------------------------------------------------
@handle_errors
def serve_command(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    model: Annotated[
        list[str] | None,
        typer.Option(
            "--model",
            "-m",
            help="NAME=REF to serve (repeatable; default: the project's champion under its name).",
        ),
    ] = None,
    log_predictions: Annotated[bool, typer.Option(help="Log predictions to the store.")] = True,
    refresh_interval: Annotated[
        float, typer.Option(help="Seconds between checks for moved aliases (0: never).")
    ] = 5.0,
    project: ProjectOption = Path("."),
) -> None:
    """Serve models over REST (POST /v1/models/NAME/predict), logging every prediction."""
    from loopml.serve import serve

    refs = None
    if model:
        refs = {}
        for item in model:
            served, sep, ref = item.partition("=")
            if not sep or not served or not ref:
                raise InvalidInputError(
                    f"--model {item!r} is not NAME=REF.",
                    hint="For example --model churn=churn@champion.",
                )
            refs[served] = ref
    with Project.open(project) as opened:
        app = build_app(
            opened, models=refs, log_predictions=log_predictions, refresh_interval=refresh_interval
        )
        say(
            f"Serving {', '.join(refs or [opened.name])} on http://{host}:{port} "
            f"(docs: http://{host}:{port}/docs)"
        )
        serve(app, host=host, port=port)


@handle_errors
def monitor_command(
    current: Annotated[
        Path | None,
        typer.Option(
            "--current",
            "-c",
            help="File with the current window (default: the model's prediction log).",
        ),
    ] = None,
    reference: Annotated[
        Path | None,
        typer.Option(
            "--reference", "-r", help="File to compare with (default: the model's training data)."
        ),
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Model to monitor (default: the champion).")
    ] = None,
    last: Annotated[int | None, typer.Option(help="Only the last N logged predictions.")] = None,
    output: Annotated[
        Path | None, typer.Option(help="Folder for the report (ad-hoc mode).")
    ] = None,
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """Drift and data-quality report: reference vs current."""
    has_project = (project / "loopml.yaml").is_file()
    if reference is not None and current is not None and not has_project:
        outcome = monitor_files(reference, current, output or Path("loopml-monitor"))
    else:
        with Project.open(project) as opened:
            outcome = monitor(opened, ref=model, current=current, reference=reference, last=last)
    data = outcome.to_dict()
    if json:
        print_json(data)
        return
    table = Table(
        "column",
        "test",
        "statistic",
        "threshold",
        "drifted",
        title=f"Drift: {data.get('model') or 'reference'} vs current",
    )
    features = sorted(data["features"].items(), key=lambda item: not item[1]["drifted"])
    for column, result in features:
        drifted = "[red]yes[/]" if result["drifted"] else "no"
        table.add_row(
            column,
            result["test"],
            f"{result['statistic']:.4f}",
            f"{result['threshold']:.4f}",
            drifted,
        )
    console.print(table)
    verdict = "[red]DRIFT[/]" if data["dataset_drift"] else "[green]no dataset drift[/]"
    say(f"{verdict}: {data['share_drifted']:.0%} of features drifted.")
    say(f"Report: {outcome.report_html}")
