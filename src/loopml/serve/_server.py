"""Running the serving app under uvicorn."""

from __future__ import annotations

import importlib.util

import uvicorn
from fastapi import FastAPI

from loopml.errors import InvalidInputError


def serve(
    app: FastAPI | str,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    *,
    factory: bool = False,
    access_log: bool = False,
    log_level: str = "info",
) -> None:
    """Serve ``app`` with uvicorn until interrupted (uvloop and httptools when installed).

    Args:
        app: the app, or with several workers an import string (``"pkg.module:app"``, or a
            function returning the app with ``factory=True``) each worker process imports.
        workers: worker processes; each loads its own models.
        access_log: log every request (off by default: the prediction log records them).

    Raises:
        InvalidInputError: several workers were asked for with an app object, or an argument is
            out of range.
    """
    if workers < 1:
        raise InvalidInputError(
            f"The 'workers' parameter of serve must be at least 1. Got {workers}."
        )
    if workers > 1 and not isinstance(app, str):
        raise InvalidInputError(
            "Serving with several workers needs the app as an import string, not an object.",
            hint="Pass 'package.module:create' with factory=True, or use workers=1.",
        )
    uvicorn.run(
        app,
        host=host,
        port=port,
        workers=workers,
        factory=factory,
        loop="uvloop" if _installed("uvloop") else "asyncio",
        http="httptools" if _installed("httptools") else "h11",
        access_log=access_log,
        log_level=log_level,
        lifespan="on",
    )


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None
