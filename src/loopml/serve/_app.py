"""The serving app: prediction, health, readiness and model listing over HTTP.

Everything the app uses is injected: the :class:`ModelResolver` and :class:`PredictionSink` live
on ``app.state`` and reach the endpoints through FastAPI dependencies (``get_resolver``,
``get_sink``, ``get_body_limit``), so tests swap them with ``app.dependency_overrides``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from loopml.errors import LoopmlError
from loopml.serve import _admin, _routed, _v2
from loopml.serve._arm_counters import ArmCounters
from loopml.serve._body import load_json, parse_payload, read_body
from loopml.serve._deployments import DeploymentResolver
from loopml.serve._deps import (
    get_body_limit,
    get_deployments,
    get_feedback,
    get_metrics,
    get_model,
    get_resolver,
    get_sink,
)
from loopml.serve._fast_lane import ServingApp
from loopml.serve._feedback import FeedbackSink, parse_feedback
from loopml.serve._handlers import JSONBytesResponse, install_error_handlers
from loopml.serve._interfaces import LoadedModel, ModelResolver, PredictionSink
from loopml.serve._metrics import MetricsMiddleware, ServingMetrics, mark_served
from loopml.serve._openapi import openapi_builder
from loopml.serve._predict import log_predictions, runs_inline, score

__all__ = [
    "create_app",
    "get_body_limit",
    "get_deployments",
    "get_feedback",
    "get_model",
    "get_resolver",
    "get_sink",
]

logger = logging.getLogger(__name__)


router = APIRouter()

SWITCH_INTERVAL = 0.001
"""Seconds a thread may hold the GIL while another waits, in a serving process."""


@router.post("/v1/models/{name}/predict", include_in_schema=False)
async def predict(
    request: Request,
    background: BackgroundTasks,
    model: LoadedModel = Depends(get_model),
    sink: PredictionSink | None = Depends(get_sink),
    max_bytes: int = Depends(get_body_limit),
    explain: bool = False,
) -> JSONBytesResponse:
    """Score one record, a list of records, or ``{"records": [...]}`` (documented per model);
    ``?explain=true`` adds each record's top contributions in original columns."""
    mark_served(request, model.name, model.version)
    body = await read_body(request, max_bytes)
    payload = parse_payload(body, model.schema.field_names)
    if runs_inline(model, payload, explain):
        scored = score(model, payload)
    else:
        scored = await run_in_threadpool(score, model, payload, explain)
    if sink is not None:
        background.add_task(log_predictions, sink, scored.log)
    return JSONBytesResponse(scored.body)


@router.post("/v1/feedback", tags=["feedback"])
async def feedback(
    request: Request,
    sink: FeedbackSink = Depends(get_feedback),
    max_bytes: int = Depends(get_body_limit),
) -> JSONBytesResponse:
    """Ground truth for earlier predictions: ``{"request_id", "label"}``, a list of them, or
    ``{"feedback": [...]}``. Unknown request ids get 404 naming them, and nothing is stored."""
    items = parse_feedback(load_json(await read_body(request, max_bytes)))
    stored = await run_in_threadpool(sink.add, items)
    return JSONBytesResponse({"stored": stored})


@router.get("/metrics", tags=["operations"], response_class=Response)
async def metrics(served: ServingMetrics = Depends(get_metrics)) -> Response:
    """Prometheus metrics: requests, errors and latency per route and model version."""
    from prometheus_client import CONTENT_TYPE_LATEST

    return Response(served.exposition(), media_type=CONTENT_TYPE_LATEST)


@router.get("/health", tags=["operations"])
async def health() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/ready", tags=["operations"])
async def ready(resolver: ModelResolver = Depends(get_resolver)) -> JSONBytesResponse:
    """Readiness: 200 when every served model resolves, else 503 naming those that failed."""
    models, failed, backends = _resolve_all(resolver)
    body: dict[str, Any] = {"ready": bool(models) and not failed, "models": models}
    if failed:
        body["failed"] = failed
    if backends:
        body["backends"] = backends
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
    feedback: FeedbackSink | None = None,
    deployments: DeploymentResolver | None = None,
    arm_counters: ArmCounters | None = None,
    max_body_bytes: int = 10_000_000,
    refresh_interval: float | None = None,
) -> FastAPI:
    """The serving app over ``resolver``, logging predictions to ``sink`` when given.

    Args:
        resolver: maps served names to loaded models.
        sink: receives one record per prediction after each response; closed (flushed) when the
            app shuts down.
        feedback: stores ground truth sent to ``POST /v1/feedback`` (404 there when None).
        deployments: the deployments served at ``/v1/deployments/{name}/predict``.
        arm_counters: where per-arm request and failure counts go (canary guardrails read
            them); a fresh one when None.
        max_body_bytes: larger request bodies are refused with 413.
        refresh_interval: when set, ``resolver.refresh()`` (and ``deployments.refresh()``) runs
            every so many seconds so alias and deployment changes take effect without a restart
            (failures are logged, the old models stay).
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The prediction logger and the refresher are threads: let the event loop take the GIL
        # back from them within a millisecond instead of Python's default five, which is what
        # tail latency under load is made of.
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
        # Everything loaded so far (libraries, models) lives as long as the process: keep it out
        # of the cyclic garbage collector's full passes, which otherwise stall requests.
        gc.collect()
        gc.freeze()
        refresher = None
        if refresh_interval is not None:
            refresher = asyncio.create_task(
                _refresh_forever([resolver, deployments], refresh_interval)
            )
        try:
            yield
        finally:
            if refresher is not None:
                refresher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await refresher
            if sink is not None:
                await run_in_threadpool(sink.close)
            for close in app.state.on_shutdown:
                await run_in_threadpool(close)
            gc.unfreeze()

    app = ServingApp(  # simple predictions skip FastAPI's stack entirely
        title="loopml serving",
        description="Predictions from loopml models; each model's request schema comes from "
        "its data contract.",
        version="1",
        lifespan=lifespan,
        default_response_class=JSONBytesResponse,
    )
    app.state.resolver = resolver
    app.state.sink = sink
    app.state.feedback = feedback
    app.state.deployments = deployments
    app.state.arm_counters = arm_counters if arm_counters is not None else ArmCounters()
    app.state.max_body_bytes = max_body_bytes
    app.state.metrics = ServingMetrics()
    app.state.on_shutdown = []  # callables run after the sink is flushed (e.g. closing a store)
    app.include_router(router)
    app.include_router(_v2.router)
    app.include_router(_routed.router)
    app.include_router(_admin.router)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    install_error_handlers(app)
    app.openapi = openapi_builder(app, lambda: app.state.resolver)  # type: ignore[method-assign]
    app.seal()
    return app


async def _refresh_forever(
    sources: list[ModelResolver | DeploymentResolver | None], interval: float
) -> None:
    while True:
        await asyncio.sleep(interval)
        for source in sources:
            if source is None:
                continue
            try:
                await run_in_threadpool(source.refresh)
            except Exception:
                logger.exception("Refreshing the served models failed; the current ones stay")


def _resolve_all(
    resolver: ModelResolver,
) -> tuple[dict[str, str], dict[str, str], dict[str, dict[str, str]]]:
    """Served refs, load errors, and how each model is scored (``kind`` and any fallback
    ``note``, e.g. an ONNX conversion that failed)."""
    models: dict[str, str] = {}
    failed: dict[str, str] = {}
    backends: dict[str, dict[str, str]] = {}
    for name in resolver.names():
        try:
            model = resolver.resolve(name)
        except LoopmlError as exc:
            failed[name] = str(exc)
            continue
        models[name] = model.ref
        backends[name] = {"kind": model.predictor.kind}
        if model.predictor.note:
            backends[name]["note"] = model.predictor.note
    return models, failed, backends


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
