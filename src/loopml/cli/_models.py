"""``loopml models``: versions, governed promotion, approvals, rollback, archive and export."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from loopml._constants import CHAMPION, EXPORT_FORMATS
from loopml.cli._common import JsonOption, ProjectOption, console, handle_errors, print_json, say
from loopml.errors import InvalidInputError

if TYPE_CHECKING:
    from loopml.project import Project
    from loopml.registry import Governance, ModelRef
    from loopml.store import ModelVersion

models_app = typer.Typer(
    help="Registered model versions, governed promotion, approvals and export.",
    no_args_is_help=True,
)

ByOption = Annotated[str, typer.Option("--by", help="Who is acting (kept in the audit log).")]
ReasonOption = Annotated[str, typer.Option(help="Why (kept in the audit log).")]


def _governance(project: Project) -> Governance:
    return project.governance


def _version_ref(text: str) -> ModelRef:
    from loopml.registry import ModelRef

    ref = ModelRef.parse(text)
    if ref.version is None:
        raise InvalidInputError(
            f"{text!r} does not name a version.", hint="Use NAME:VERSION, e.g. churn:3."
        )
    return ref


def _row(v: ModelVersion) -> dict[str, Any]:
    return {
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


@models_app.command("list")
@handle_errors
def models_list(
    name: Annotated[str | None, typer.Argument(help="Model name (default: every model).")] = None,
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """List versions with their aliases, stage, primary metrics and gate results."""
    from loopml.project import Project

    with Project.open(project) as opened:
        versions = opened.registry.list(name)
    if json:
        print_json([_row(v) for v in versions])
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
    """Show one version: metrics, gates, approvals, lineage."""
    from loopml.project import Project

    with Project.open(project) as opened:
        version = opened.registry.get(model)
        approvals = opened.store.models.approvals(version.name, version.version)
    payload = {
        "model": version.ref,
        "aliases": list(version.aliases),
        "stage": version.stage,
        "task": version.task,
        "run_id": version.run_id,
        "dataset": version.dataset_id,
        "metrics": version.metrics,
        "gates": version.gates,
        "artifact": version.artifact,
        "description": version.description,
        "approvals": [
            {"by": a.approver, "reason": a.reason, "time": a.time.isoformat()} for a in approvals
        ],
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
    reason: ReasonOption = "",
    by: ByOption = "cli",
    force: Annotated[
        bool, typer.Option(help="Move a protected alias past failed checks (needs --reason).")
    ] = False,
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """Point an alias (default: champion) at a version. A protected alias needs passed gates
    (and an approval when the charter requires one) unless --force; audited either way."""
    from loopml.project import Project

    ref = _version_ref(model)
    assert ref.version is not None
    with Project.open(project) as opened:
        promotion = _governance(opened).promote(
            ref.name,
            ref.version,
            alias,
            actor=by,
            # A forced move must say why: no default reason for it.
            reason=reason if force else reason or "promoted from the CLI",
            force=force,
        )
    if json:
        print_json(promotion.to_dict())
        return
    before = f" (was v{promotion.previous})" if promotion.previous else ""
    forced = " [yellow](forced)[/]" if promotion.forced else ""
    say(f"{ref.name}@{alias} -> v{ref.version}{before}{forced}")


@models_app.command("approve")
@handle_errors
def models_approve(
    model: Annotated[str, typer.Argument(help="NAME:VERSION to approve.")],
    by: Annotated[str, typer.Option("--by", help="Who approves.")],
    reason: Annotated[str, typer.Option(help="Why it may go to production.")],
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """Approve a version for a protected alias (recorded with who and why)."""
    from loopml.project import Project

    ref = _version_ref(model)
    assert ref.version is not None
    with Project.open(project) as opened:
        approval = _governance(opened).approve(ref.name, ref.version, by=by, reason=reason)
    if json:
        print_json(
            {
                "model": approval.ref,
                "by": approval.approver,
                "reason": approval.reason,
                "time": approval.time.isoformat(),
            }
        )
        return
    say(f"{approval.ref} approved by {approval.approver}: {approval.reason}")


@models_app.command("rollback")
@handle_errors
def models_rollback(
    name: Annotated[str, typer.Argument(help="Model name.")],
    alias: Annotated[str, typer.Option(help="Alias to roll back.")] = CHAMPION,
    reason: ReasonOption = "",
    by: ByOption = "cli",
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """Put back the version the alias (default: champion) pointed at before, in one step."""
    from loopml.project import Project

    with Project.open(project) as opened:
        promotion = _governance(opened).rollback(name, alias, actor=by, reason=reason)
    if json:
        print_json(promotion.to_dict())
        return
    say(f"{name}@{alias} -> v{promotion.version} (rolled back from v{promotion.previous})")


@models_app.command("archive")
@handle_errors
def models_archive(
    model: Annotated[str, typer.Argument(help="NAME:VERSION to archive.")],
    reason: ReasonOption = "",
    by: ByOption = "cli",
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """Retire a version: stage archived, its unprotected aliases removed (audited)."""
    from loopml.project import Project

    ref = _version_ref(model)
    assert ref.version is not None
    with Project.open(project) as opened:
        version = _governance(opened).archive(
            ref.name, ref.version, actor=by, reason=reason or "archived from the CLI"
        )
    if json:
        print_json(_row(version))
        return
    say(f"{version.ref} archived.")


@models_app.command("export")
@handle_errors
def models_export(
    model: Annotated[str, typer.Argument(help="NAME, NAME:VERSION or NAME@ALIAS.")],
    output: Annotated[Path, typer.Argument(help="Folder to write (created; must be empty).")],
    format: Annotated[
        str, typer.Option("--format", "-f", help=f"One of: {', '.join(EXPORT_FORMATS)}.")
    ] = "skops",
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """Export a version as joblib (+ SHA-256 manifest), skops (safe loading) or ONNX (the whole
    pipeline, verified against scikit-learn on the holdout)."""
    from loopml.project import Project
    from loopml.project._ingest import load_dataset
    from loopml.project._prepare import split_holdout
    from loopml.registry import export_model

    with Project.open(project) as opened:
        version, bundle = opened.registry.load(model)
        sample = None
        if format == "onnx" and version.dataset_id is not None:
            _dataset, frame = load_dataset(opened, version.dataset_id)
            cut = split_holdout(opened, frame, bundle.contract)
            sample = frame.iloc[cut.test_index]
        result = export_model(
            bundle, format, output.resolve(), model_ref=version.ref, sample=sample
        )
    if json:
        print_json(result.to_dict())
        return
    say(f"{version.ref} exported as {format} to {result.path}")
    for key, value in result.checks.items():
        say(f"  {key}: {value}")
