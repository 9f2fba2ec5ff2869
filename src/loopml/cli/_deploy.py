"""``loopml deploy``: named deployments and rollouts (single, blue-green, canary, shadow, A/B,
bandit)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from loopml.cli._common import JsonOption, ProjectOption, console, handle_errors, print_json, say
from loopml.errors import InvalidInputError

if TYPE_CHECKING:
    from loopml.store import Deployment

deploy_app = typer.Typer(
    help="Deployments served by `loopml serve` at /v1/deployments/NAME/predict.",
    no_args_is_help=True,
)

NameArgument = Annotated[str, typer.Argument(help="Deployment name.")]
ModelArgument = Annotated[str, typer.Argument(help="Model: NAME, NAME:VERSION or NAME@ALIAS.")]
ByOption = Annotated[str, typer.Option("--by", help="Who is deploying (audit log).")]


def _done(deployment: Deployment, json: bool, extra: dict[str, Any] | None = None) -> None:
    from loopml.project._deploy import live_ref

    body = {"name": deployment.name, "policy": deployment.policy, **(extra or {})}
    if json:
        print_json(body)
        return
    say(f"{deployment.name}: {deployment.policy['kind']}, live {live_ref(deployment.policy)}")


@deploy_app.command("single")
@handle_errors
def single(
    name: NameArgument,
    model: Annotated[str | None, typer.Argument(help="Model (default: PROJECT@champion).")] = None,
    by: ByOption = "cli",
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """Serve one model reference (an alias is followed as it moves)."""
    from loopml.project import Project
    from loopml.project._deploy import deploy_single

    with Project.open(project) as opened:
        _done(deploy_single(opened, name, model, actor=by), json)


@deploy_app.command("blue-green")
@handle_errors
def blue_green(
    name: NameArgument,
    model: ModelArgument,
    sample: Annotated[int, typer.Option(help="Recent logged requests to smoke-check.")] = 100,
    by: ByOption = "cli",
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """Stage MODEL beside the live one, smoke-check it on recent requests, switch at once."""
    from loopml.project import Project
    from loopml.project._deploy import deploy_blue_green

    with Project.open(project) as opened:
        deployment, smoke = deploy_blue_green(opened, name, model, sample=sample, actor=by)
    _done(deployment, json, {"smoke_check": smoke})


@deploy_app.command("canary")
@handle_errors
def canary(
    name: NameArgument,
    model: ModelArgument,
    steps: Annotated[
        str, typer.Option(help="Traffic weights to ramp through.")
    ] = "0.05,0.25,0.5,1",
    min_requests: Annotated[int, typer.Option(help="Candidate requests per step.")] = 100,
    step_seconds: Annotated[float, typer.Option(help="Shortest duration of a step.")] = 0.0,
    max_error_rate: Annotated[float, typer.Option(help="Failure-rate increase allowed.")] = 0.02,
    max_p99_ms: Annotated[float | None, typer.Option(help="Candidate p99 latency limit.")] = None,
    max_psi: Annotated[float, typer.Option(help="Prediction PSI vs stable allowed.")] = 0.25,
    max_metric_drop: Annotated[float, typer.Option(help="Live metric drop allowed.")] = 0.05,
    auto_promote: Annotated[bool, typer.Option(help="Promote after a clean last step.")] = True,
    by: ByOption = "cli",
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """Send a small weight to MODEL and ramp it while guardrails hold; roll back on a breach."""
    try:
        weights = [float(w) for w in steps.split(",") if w.strip()]
    except ValueError:
        raise InvalidInputError(
            f"--steps {steps!r} is not a list of numbers.", hint="For example 0.05,0.25,1."
        ) from None
    from loopml.project import Project
    from loopml.project._deploy import deploy_canary

    with Project.open(project) as opened:
        deployment = deploy_canary(
            opened,
            name,
            model,
            steps=weights,
            min_requests=min_requests,
            step_seconds=step_seconds,
            max_error_rate=max_error_rate,
            max_p99_ms=max_p99_ms,
            max_psi=max_psi,
            max_metric_drop=max_metric_drop,
            auto_promote=auto_promote,
            actor=by,
        )
    _done(deployment, json)


@deploy_app.command("shadow")
@handle_errors
def shadow(
    name: NameArgument,
    model: ModelArgument,
    fraction: Annotated[float, typer.Option(help="Share of requests mirrored.")] = 1.0,
    by: ByOption = "cli",
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """Mirror requests to MODEL in the background; the live model keeps answering."""
    from loopml.project import Project
    from loopml.project._deploy import deploy_shadow

    with Project.open(project) as opened:
        _done(deploy_shadow(opened, name, model, fraction=fraction, actor=by), json)


@deploy_app.command("ab")
@handle_errors
def ab(
    name: NameArgument,
    model: ModelArgument,
    key: Annotated[str, typer.Option(help="Field whose value keeps assignment sticky.")],
    split: Annotated[float, typer.Option(help="Share of keys sent to MODEL (arm b).")] = 0.5,
    alpha: Annotated[float, typer.Option(help="False-positive rate of the test.")] = 0.05,
    min_samples: Annotated[int, typer.Option(help="Labelled outcomes per arm first.")] = 100,
    auto_promote: Annotated[bool, typer.Option(help="Route all to a significant winner.")] = True,
    by: ByOption = "cli",
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """A/B test MODEL against the live model, decided by a sequential test on feedback."""
    from loopml.project import Project
    from loopml.project._deploy import deploy_ab

    with Project.open(project) as opened:
        deployment = deploy_ab(
            opened,
            name,
            model,
            key=key,
            split=split,
            alpha=alpha,
            min_samples=min_samples,
            auto_promote=auto_promote,
            actor=by,
        )
    _done(deployment, json)


@deploy_app.command(
    "bandit", context_settings={"allow_extra_args": True, "ignore_unknown_options": False}
)
@handle_errors
def bandit(
    ctx: typer.Context,
    name: NameArgument,
    models: Annotated[
        list[str],
        typer.Option(
            "--models",
            help="Two or more models: --models A B C (or A,B,C, or --models repeated).",
        ),
    ],
    floor: Annotated[float, typer.Option(help="Least share of traffic each model keeps.")] = 0.05,
    reward: Annotated[
        str,
        typer.Option(help="correct: prediction equals the feedback label; label: it is 1/0."),
    ] = "correct",
    by: ByOption = "cli",
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """Thompson sampling between models on a reward from feedback (allocation in status)."""
    from loopml.project import Project
    from loopml.project._deploy import deploy_bandit

    refs = [ref for value in [*models, *ctx.args] for ref in value.split(",") if ref.strip()]
    with Project.open(project) as opened:
        deployment = deploy_bandit(
            opened, name, [r.strip() for r in refs], floor=floor, reward_kind=reward, actor=by
        )
    _done(deployment, json, {"allocation": deployment.policy["allocation"]})


@deploy_app.command("rollback")
@handle_errors
def rollback_command(
    name: NameArgument,
    by: ByOption = "cli",
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """Switch back at once (blue-green: the other colour; rollouts: the stable model)."""
    from loopml.project import Project
    from loopml.project._deploy import rollback

    with Project.open(project) as opened:
        _done(rollback(opened, name, actor=by), json)


@deploy_app.command("advance")
@handle_errors
def advance_command(
    name: NameArgument, project: ProjectOption = Path("."), json: JsonOption = False
) -> None:
    """Run one step of the rollout controller (the server also runs it on every refresh)."""
    from loopml.project import Project
    from loopml.project._deploy import advance

    with Project.open(project) as opened:
        outcome = advance(opened, name)
    if json:
        print_json({"name": name, "outcome": outcome})
        return
    say(f"{name}: {outcome}")


@deploy_app.command("status")
@handle_errors
def status_command(
    name: NameArgument, project: ProjectOption = Path("."), json: JsonOption = False
) -> None:
    """A deployment's policy, per-arm traffic, latency, feedback metric and its history."""
    from loopml.project import Project
    from loopml.project._deploy import deployment_status

    with Project.open(project) as opened:
        status = deployment_status(opened, name)
    if json:
        print_json(status)
        return
    say(f"[bold]{name}[/]: {status['kind']}, live {status['live']}")
    table = Table(
        "arm", "requests", "step: served/failed", "p50 ms", "p99 ms", "feedback", "metric"
    )
    for arm, s in status["arms"].items():
        table.add_row(
            arm,
            str(s["requests"]),
            f"{s['requests_this_step']}/{s['failures_this_step']}",
            _num(s["p50_ms"]),
            _num(s["p99_ms"]),
            str(s["feedback"]),
            _num(s["metric"]),
        )
    console.print(table)
    if "allocation" in status:
        shares = ", ".join(f"{arm} {share:.1%}" for arm, share in status["allocation"].items())
        say(f"Allocation: {shares}")
    for event in status["history"][-5:]:
        say(f"  {event['time'][:19]} {event['actor']}: {event['reason']}")


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
