"""``loopml serve`` and ``loopml package``: serve models over HTTP, or package one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from loopml.cli._common import JsonOption, ProjectOption, handle_errors, print_json, say
from loopml.errors import InvalidInputError


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
    admin_token_file: Annotated[
        Path | None,
        typer.Option(
            help="File holding the bearer token of the admin API (/admin/…; default: "
            "$LOOPML_ADMIN_TOKEN; without either the admin API is off)."
        ),
    ] = None,
    backend: Annotated[
        str,
        typer.Option(
            help="sklearn: compiled numpy scoring, verified against the pipeline at load "
            "(else the pipeline); onnx: ONNX Runtime (models that cannot be converted use "
            "sklearn; /ready says which)."
        ),
    ] = "sklearn",
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Worker processes sharing the store (each loads the models; with more than "
            "one, scheduled monitoring is left to `loopml monitor`).",
        ),
    ] = 1,
    project: ProjectOption = Path("."),
) -> None:
    """Serve models (POST /v1/models/NAME/predict, V2 /v2/models/NAME/infer) and deployments
    (POST /v1/deployments/NAME/predict), logging every prediction; feedback at /v1/feedback."""
    from loopml.project import Project, build_app
    from loopml.serve import serve
    from loopml.serve._admin import admin_token

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
    options = {
        "models": refs,
        "log_predictions": log_predictions,
        "refresh_interval": refresh_interval,
        "monitor_schedule": monitor_schedule,
        "monitor_window": monitor_window,
        "admin_token": admin_token(admin_token_file) if admin_token_file else None,
        "backend": backend,
    }
    if workers > 1:
        _serve_workers(project, options, host=host, port=port, workers=workers)
        return
    with Project.open(project) as opened:
        app = build_app(opened, **options)  # type: ignore[arg-type]
        say(
            f"Serving {', '.join(refs or [opened.name])} on http://{host}:{port} "
            f"(docs: http://{host}:{port}/docs)"
        )
        _say_backends(app)
        serve(app, host=host, port=port)


def _say_backends(app: Any) -> None:
    """One line per served model saying how it is scored (and why not faster)."""
    from loopml.errors import LoopmlError

    resolver = app.state.resolver
    for name in resolver.names():
        try:
            predictor = resolver.resolve(name).predictor
        except LoopmlError as exc:
            say(f"  {name}: failed to load: {exc}")
            continue
        note = f" ({predictor.note})" if predictor.note else ""
        say(f"  {name}: {predictor.kind} scoring{note}")


def _serve_workers(
    project: Path, options: dict[str, Any], *, host: str, port: int, workers: int
) -> None:
    import os

    from loopml.project import Project
    from loopml.project._serve_workers import SERVE_CONFIG_ENV, WORKER_FACTORY, worker_config
    from loopml.serve import serve

    with Project.open(project) as opened:  # fail here, not in every worker, on a bad project
        root, name = opened.paths.root, opened.name
    os.environ[SERVE_CONFIG_ENV] = worker_config(root, **options)
    say(
        f"Serving {', '.join(options['models'] or [name])} on http://{host}:{port} with "
        f"{workers} workers (docs: http://{host}:{port}/docs)"
    )
    serve(WORKER_FACTORY, host=host, port=port, workers=workers, factory=True)


@handle_errors
def package_command(
    model: Annotated[str, typer.Argument(help="NAME, NAME:VERSION or NAME@ALIAS.")],
    folder: Annotated[Path, typer.Argument(help="Empty or new folder to write into.")],
    port: Annotated[int, typer.Option(help="Port the container listens on.")] = 8000,
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """Write a Dockerfile, pinned requirements and Kubernetes manifests serving one model."""
    from loopml.project import Project
    from loopml.project._serve import package

    with Project.open(project) as opened:
        written = package(opened, model, folder, port=port)
    if json:
        print_json({"folder": str(written.folder), "files": [p.name for p in written.files]})
        return
    say(f"Packaged {model} into {written.folder}: {', '.join(p.name for p in written.files)}")
    say(f"Build: docker build -t IMAGE {written.folder}; deploy: kubectl apply -f kubernetes.yaml")
