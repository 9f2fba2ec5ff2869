"""``loopml serve --workers N``: each uvicorn worker process builds its own app over one store.

uvicorn starts worker processes that import an app factory by name, so the serving options
travel in an environment variable (:data:`SERVE_CONFIG_ENV`, JSON) that every worker reads in
:func:`app_from_environment`. Each worker loads its own models and writes its own prediction log
batches to the shared metadata store; feedback joins them by request id whichever worker served
them. Scheduled monitoring is left to one place (cron, or a single-worker server), since every
worker would otherwise run it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from loopml.errors import InvalidInputError
from loopml.project._project import Project
from loopml.project._serve import build_app

SERVE_CONFIG_ENV = "LOOPML_SERVE_CONFIG"
"""Environment variable holding the JSON serving options of :func:`app_from_environment`."""
WORKER_FACTORY = "loopml.project._serve_workers:app_from_environment"
"""The import string uvicorn workers build their app from."""


def worker_config(root: str | Path, **options: Any) -> str:
    """The JSON value of :data:`SERVE_CONFIG_ENV` for the project in ``root`` and the keyword
    options of :func:`~loopml.project.build_app` (JSON-able values only)."""
    return json.dumps({"root": str(Path(root).resolve()), **options})


def app_from_environment() -> FastAPI:
    """The serving app of one worker, from :data:`SERVE_CONFIG_ENV` (the project's store is
    closed when the app shuts down).

    Raises:
        InvalidInputError: the variable is missing or not the JSON :func:`worker_config` writes.
        NotFoundError, CharterError, StoreError: the project cannot be opened.
    """
    raw = os.environ.get(SERVE_CONFIG_ENV)
    try:
        options = json.loads(raw) if raw else None
    except json.JSONDecodeError:
        options = None
    if not isinstance(options, dict) or "root" not in options:
        raise InvalidInputError(
            f"The environment variable {SERVE_CONFIG_ENV} does not hold serving options.",
            hint="Start workers with `loopml serve --workers N`.",
        )
    project = Project.open(options.pop("root"))
    app = build_app(project, monitor=False, **options)
    app.state.on_shutdown.append(project.close)
    return app
