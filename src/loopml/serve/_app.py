"""The serving app: prediction, health, readiness and model listing over HTTP.

Everything the app uses is injected: the :class:`ModelResolver` and :class:`PredictionSink` live
on ``app.state`` and reach the endpoints through FastAPI dependencies (``get_resolver``,
``get_sink``, ``get_body_limit``), so tests swap them with ``app.dependency_overrides``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, Request
from starlette.concurrency import run_in_threadpool

from loopml.errors import LoopmlError
from loopml.serve._body import parse_payload, read_body
from loopml.serve._handlers import JSONBytesResponse, install_error_handlers
from loopml.serve._interfaces import LoadedModel, ModelResolver, PredictionSink
from loopml.serve._openapi import openapi_builder
from loopml.serve._predict import PredictionLog, score

logger = logging.getLogger(__name__)


def get_resolver(request: Request) -> ModelResolver:
    """The app's model resolver."""
    resolver: ModelResolver = request.app.state.resolver
    return resolver


def get_sink(request: Request) -> PredictionSink | None:
    """The app's prediction sink, or None when predictions are not logged."""
    sink: PredictionSink | None = request.app.state.sink
    return sink


def get_body_limit(request: Request) -> int:
    """The largest accepted request body, in bytes."""
    limit: int = request.app.state.max_body_bytes
    return limit


def get_model(name: str, resolver: ModelResolver = Depends(get_resolver)) -> LoadedModel:
    """The model named in the path. Raises NotFoundError (404) naming the served models."""
    return resolver.resolve(name)


router = APIRouter()


@router.post("/v1/models/{name}/predict", include_in_schema=False)
async def predict(
    request: Request,
    background: BackgroundTasks,
    model: LoadedModel = Depends(get_model),
    sink: PredictionSink | None = Depends(get_sink),
    max_bytes: int = Depends(get_body_limit),
) -> JSONBytesResponse:
    """Score one record, a list of records, or ``{"records": [...]}`` (documented per model)."""
    body = await read_body(request, max_bytes)
    payload = parse_payload(body, model.schema.column_names)
    scored = await run_in_threadpool(score, model, payload)
    if sink is not None:
        background.add_task(_log_predictions, sink, scored.log)
    return JSONBytesResponse(scored.body)


@router.get("/health", tags=["operations"])
async def health() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/ready", tags=["operations"])
async def ready(resolver: ModelResolver = Depends(get_resolver)) -> JSONBytesResponse:
    """Readiness: 200 when every served model resolves, else 503 naming those that failed."""
    models, failed = _resolve_all(resolver)
    body: dict[str, Any] = {"ready": bool(models) and not failed, "models": models}
    if failed:
        body["failed"] = failed
    if not models and not failed:
        body["message"] = "No models are served."
    return JSONBytesResponse(body, status_code=200 if body["ready"] else 503)


@router.get("/v1/models", tags=["models"])
async def list_models(resolver: ModelResolver = Depends(get_resolver)) -> JSONBytesResponse:
    """Every served model with its version (and the error of any that fails to load)."""
    entries: list[dict[str, Any]] = []
    for name in resolver.names():
        try:
            entries.append(_describe(resolver.resolve(name), fields=False))
        except LoopmlError as exc:
            entries.append({"name": name, "error": exc.to_dict()})
    return JSONBytesResponse({"models": entries})


@router.get("/v1/models/{name}", tags=["models"])
async def describe_model(model: LoadedModel = Depends(get_model)) -> JSONBytesResponse:
    """One model: version, task, classes and the JSON schema of a request record."""
    return JSONBytesResponse(_describe(model, fields=True))


def create_app(
    resolver: ModelResolver,
    sink: PredictionSink | None = None,
    *,
    max_body_bytes: int = 10_000_000,
    refresh_interval: float | None = None,
) -> FastAPI:
    """The serving app over ``resolver``, logging predictions to ``sink`` when given.

    Args:
        resolver: maps served names to loaded models.
        sink: receives one record per prediction after each response; closed (flushed) when the
            app shuts down.
        max_body_bytes: larger request bodies are refused with 413.
        refresh_interval: when set, ``resolver.refresh()`` runs every so many seconds so alias
            changes take effect without a restart (failures are logged, the old models stay).
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        refresher = None
        if refresh_interval is not None:
            refresher = asyncio.create_task(_refresh_forever(resolver, refresh_interval))
        try:
            yield
        finally:
            if refresher is not None:
                refresher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await refresher
            if sink is not None:
                await run_in_threadpool(sink.close)

    app = FastAPI(
        title="loopml serving",
        description="Predictions from loopml models; each model's request schema comes from "
        "its data contract.",
        version="1",
        lifespan=lifespan,
        default_response_class=JSONBytesResponse,
    )
    app.state.resolver = resolver
    app.state.sink = sink
    app.state.max_body_bytes = max_body_bytes
    app.include_router(router)
    install_error_handlers(app)
    app.openapi = openapi_builder(app, lambda: app.state.resolver)  # type: ignore[method-assign]
    return app


async def _log_predictions(sink: PredictionSink, log: PredictionLog) -> None:
    # Runs after the response is sent; a failing sink must not surface to the client.
    try:
        sink.submit(log.records())
    except Exception:
        logger.exception("Could not hand %d prediction(s) to the log", len(log.request_ids))


async def _refresh_forever(resolver: ModelResolver, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await run_in_threadpool(resolver.refresh)
        except Exception:
            logger.exception("Refreshing the served models failed; the current ones stay")


def _resolve_all(resolver: ModelResolver) -> tuple[dict[str, str], dict[str, str]]:
    models: dict[str, str] = {}
    failed: dict[str, str] = {}
    for name in resolver.names():
        try:
            models[name] = resolver.resolve(name).ref
        except LoopmlError as exc:
            failed[name] = str(exc)
    return models, failed


def _describe(model: LoadedModel, *, fields: bool) -> dict[str, Any]:
    bundle = model.bundle
    entry: dict[str, Any] = {
        "name": model.name,
        "version": model.version,
        "ref": model.ref,
        "task": bundle.task,
        "outputs": bundle.output_columns,
    }
    if fields:
        entry["classes"] = list(bundle.classes)
        entry["request_schema"] = model.schema.record_model.model_json_schema(by_alias=True)
    return entry
