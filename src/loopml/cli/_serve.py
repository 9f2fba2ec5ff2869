"""``loopml serve`` and ``loopml package``: serve models over HTTP, or package one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from loopml.cli._common import JsonOption, ProjectOption, handle_errors, print_json, say
from loopml.errors import InvalidInputError
from loopml.project import Project, build_app
from loopml.project._serve import package


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
        float,
        typer.Option(help="Seconds between checks for moved aliases and deployments (0: never)."),
    ] = 5.0,
    monitor_schedule: Annotated[
        str | None,
        typer.Option(
            help="Cron schedule (UTC) for monitoring the prediction log while serving "
            "(default: the charter's monitoring.schedule)."
        ),
    ] = None,
    monitor_window: Annotated[
        str | None, typer.Option(help="Window each scheduled check reads: 1h, 1d or 1w.")
    ] = None,
    project: ProjectOption = Path("."),
) -> None:
    """Serve models (POST /v1/models/NAME/predict, V2 /v2/models/NAME/infer) and deployments
    (POST /v1/deployments/NAME/predict), logging every prediction; feedback at /v1/feedback."""
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
            opened,
            models=refs,
            log_predictions=log_predictions,
            refresh_interval=refresh_interval,
            monitor_schedule=monitor_schedule,
            monitor_window=monitor_window,
        )
        say(
            f"Serving {', '.join(refs or [opened.name])} on http://{host}:{port} "
            f"(docs: http://{host}:{port}/docs)"
        )
        serve(app, host=host, port=port)


@handle_errors
def package_command(
    model: Annotated[str, typer.Argument(help="NAME, NAME:VERSION or NAME@ALIAS.")],
    folder: Annotated[Path, typer.Argument(help="Empty or new folder to write into.")],
    port: Annotated[int, typer.Option(help="Port the container listens on.")] = 8000,
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """Write a Dockerfile, pinned requirements and Kubernetes manifests serving one model."""
    with Project.open(project) as opened:
        written = package(opened, model, folder, port=port)
    if json:
        print_json({"folder": str(written.folder), "files": [p.name for p in written.files]})
        return
    say(f"Packaged {model} into {written.folder}: {', '.join(p.name for p in written.files)}")
    say(f"Build: docker build -t IMAGE {written.folder}; deploy: kubectl apply -f kubernetes.yaml")
