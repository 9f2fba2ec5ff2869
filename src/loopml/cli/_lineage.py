"""``loopml lineage``: a prediction, model version, run or dataset version and its lineage."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.tree import Tree

from loopml.cli._common import JsonOption, ProjectOption, console, handle_errors, print_json


@handle_errors
def lineage_command(
    reference: Annotated[
        str,
        typer.Argument(
            help="Prediction request id, NAME:VERSION, NAME@ALIAS, run id or dataset version id."
        ),
    ],
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """Where something came from (prediction -> model -> run -> data -> source), and, for a
    dataset version or run, what was made from it."""
    from loopml.project import Project
    from loopml.project._lineage import lineage

    with Project.open(project) as opened:
        found = lineage(opened, reference)
    if json:
        print_json(found.to_dict())
        return
    tree = Tree(f"[bold]lineage of {escape(reference)}[/] ({found.kind.replace('_', ' ')})")
    if "prediction" in found.tree:
        _prediction(tree, found.tree["prediction"])
    elif "model_version" in found.tree:
        _model(tree, found.tree["model_version"])
    elif "run" in found.tree:
        _run(tree, found.tree["run"])
    else:
        _dataset(tree, found.tree["dataset"])
    console.print(tree)


def _prediction(parent: Tree, node: dict[str, Any]) -> None:
    branch = parent.add(
        f"[bold]prediction[/] {escape(node['request_id'])} at {node['time']}"
        f" (deployment {escape(node['deployment'] or '-')}, {node['latency_ms']:.2f} ms)"
    )
    if node["model_version"] is None:
        branch.add(f"[red]model version {escape(node['model'])} is no longer registered[/]")
    else:
        _model(branch, node["model_version"])


def _model(parent: Tree, node: dict[str, Any]) -> None:
    aliases = f" @{', @'.join(node['aliases'])}" if node["aliases"] else ""
    gates = {True: "gates passed", False: "[red]gates failed[/]", None: "no gates"}
    branch = parent.add(
        f"[bold]model version[/] {escape(node['model'])}{escape(aliases)} ({node['stage']}, "
        f"{gates[node['gates_passed']]}, registered {node['created_at']})"
    )
    if node["run"] is not None:
        _run(branch, node["run"])
    if node["dataset"] is not None:
        _dataset(branch, node["dataset"])
    _predictions(branch, node)


def _run(parent: Tree, node: dict[str, Any]) -> None:
    if node.get("missing"):
        parent.add(f"[red]run {escape(node['id'])} is missing[/]")
        return
    branch = parent.add(
        f"[bold]run[/] {node['id'][:12]} {escape(node['name'])} ({node['kind']}, {node['status']},"
        f" started {node['start_time']})"
    )
    if node["parent"]:
        branch.add(f"parent run {node['parent']['id'][:12]} {escape(node['parent']['name'])}")
    git = node["git"]
    if git["commit"]:
        dirty = " [yellow](dirty: uncommitted changes)[/]" if git["dirty"] else " (clean)"
        branch.add(f"git commit {git['commit'][:12]}{dirty}")
    else:
        branch.add("git commit: not in a git repository")
    charter = node["charter"]
    if charter["sha256"]:
        how = "" if charter["recorded"] else " [yellow](current file; not recorded by the run)[/]"
        branch.add(f"charter sha256 {charter['sha256'][:16]}…{how}")
    branch.add(f"seed {node['seed'] if node['seed'] is not None else '-'}")
    if node["packages"]:
        branch.add(
            "packages " + ", ".join(f"{escape(k)} {escape(v)}" for k, v in node["packages"].items())
        )
    if node["dataset"] is not None:
        _dataset(branch, node["dataset"])
    if node.get("model_versions"):
        branch.add("[bold]registered[/] " + ", ".join(node["model_versions"]))
    _predictions(branch, node)


def _dataset(parent: Tree, node: dict[str, Any]) -> None:
    if node.get("missing"):
        parent.add(f"[red]dataset version {escape(node['id'])} is missing[/]")
        return
    branch = parent.add(
        f"[bold]dataset version[/] {node['id']} ({node['rows']:,} rows x {node['columns']} "
        f"columns, {node['created_at']})"
    )
    branch.add(_source(node["source"]))
    if node["parent"]:
        branch.add(f"derived from dataset version {node['parent']}")
    if "runs" in node:
        trained = branch.add(f"[bold]trained on it[/] ({node['child_runs']} child runs)")
        for run in node["runs"]:
            trained.add(f"run {run['id'][:12]} {escape(run['name'])} ({run['kind']})")
        for ref in node["model_versions"]:
            trained.add(f"model version {escape(ref)}")
        _predictions(trained, node)
        for derived in node["derived_datasets"]:
            branch.add(f"dataset version {derived} derived from it")


def _predictions(parent: Tree, node: dict[str, Any]) -> None:
    """The downstream prediction activity of a model version, run or dataset node."""
    if "predictions" not in node:
        return
    logged, batches = node["predictions"], node["batch_predictions"]
    if not logged and not batches:
        parent.add("[bold]predictions[/] none logged, no batch predictions")
        return
    branch = parent.add(
        f"[bold]predictions[/] {node['predictions_total']:,} logged, "
        f"{len(batches)} batch prediction run(s)"
    )
    for item in logged:
        branch.add(
            f"{escape(item['model'])} via {escape(item['deployment'] or '-')}: "
            f"{item['count']:,} predictions ({item['first']} to {item['last']})"
        )
    for run in batches:
        rows = f"{run['rows']:,} rows" if run["rows"] is not None else "rows unknown"
        branch.add(
            f"batch run {run['id'][:12]} with {escape(str(run['model']))} ({run['status']}, "
            f"{rows}, {run['start_time']})"
        )


def _source(source: dict[str, Any]) -> str:
    kind = source.get("kind")
    if kind == "file":
        return (
            f"source file {escape(str(source.get('path')))} "
            f"sha256 {str(source.get('sha256'))[:16]}…"
        )
    if kind == "sql":
        what = source.get("query") or f"table {source.get('table')}"
        return f"source SQL {escape(str(source.get('url')))}: {escape(str(what))}"
    return f"source {escape(str(source))}"
