"""``POST /v1/deployments/{name}/predict``: records routed by the deployment's policy.

Each record is routed on its own (sticky policies read its key field), records of one arm are
scored together, and the answers come back in the request's order, each naming its arm. Logged
records carry ``deployment = "<name>/<arm>"``. Mirrored (shadow) records are scored after the
response is sent, in the background, and logged under ``<request_id>.shadow`` so the primary's
feedback joins them; the response and its latency never depend on the shadow.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from starlette.concurrency import run_in_threadpool

from loopml.serve._arm_counters import ArmCounters
from loopml.serve._body import Payload, parse_payload, read_body
from loopml.serve._deployments import CompiledDeployment, DeploymentResolver
from loopml.serve._deps import get_body_limit, get_counters, get_deployments, get_sink
from loopml.serve._handlers import JSONBytesResponse
from loopml.serve._interfaces import PredictionSink
from loopml.serve._metrics import mark_served
from loopml.serve._predict import ScoredRequest, log_predictions, score
from loopml.serve._routing import SHADOW_SUFFIX

logger = logging.getLogger(__name__)

router = APIRouter(tags=["deployments"])


@router.get("/v1/deployments")
async def list_deployments(
    deployments: DeploymentResolver = Depends(get_deployments),
) -> JSONBytesResponse:
    """Every deployment: its routing policy and the model version serving each arm."""
    from loopml.errors import LoopmlError

    entries: list[dict[str, Any]] = []
    for name in deployments.names():
        try:
            entries.append(deployments.get(name).describe())
        except LoopmlError as exc:
            entries.append({"name": name, "error": exc.to_dict()})
    return JSONBytesResponse({"deployments": entries})


@router.post("/v1/deployments/{name}/predict", tags=["deployments"])
async def predict_deployment(
    name: str,
    request: Request,
    background: BackgroundTasks,
    deployments: DeploymentResolver = Depends(get_deployments),
    sink: PredictionSink | None = Depends(get_sink),
    counters: ArmCounters = Depends(get_counters),
    max_bytes: int = Depends(get_body_limit),
) -> JSONBytesResponse:
    """Score one record or a list through the deployment's routing policy."""
    deployment = deployments.get(name)
    payload = parse_payload(await read_body(request, max_bytes), deployment.fields)
    groups, mirrors = _route(deployment, payload.records)
    items: list[dict[str, Any] | None] = [None] * len(payload.records)
    for arm, rows in groups.items():
        model = deployment.models[arm]
        mark_served(request, model.name, model.version)
        try:
            scored = await run_in_threadpool(
                score, model, Payload([payload.records[i] for i in rows], is_batch=True)
            )
        except Exception:
            counters.record(name, arm, failed=True)
            raise
        counters.record(name, arm, failed=False)
        for i, item in zip(rows, scored.body["predictions"], strict=True):
            items[i] = {"arm": arm, "model": model.ref, "model_version": model.version, **item}
        if sink is not None:
            background.add_task(log_predictions, sink, scored.log, f"{name}/{arm}")
        mirrored = [(k, i) for k, i in enumerate(rows) if i in mirrors]
        if mirrored and sink is not None:
            background.add_task(
                _shadow, deployment, mirrors, payload.records, scored, mirrored, sink
            )
    answers = [item for item in items if item is not None]
    if payload.is_batch:
        return JSONBytesResponse({"deployment": name, "predictions": answers})
    return JSONBytesResponse({"deployment": name, **answers[0]})


def _route(
    deployment: CompiledDeployment, records: list[Any]
) -> tuple[dict[str, list[int]], dict[int, str]]:
    key = deployment.policy.key
    groups: dict[str, list[int]] = {}
    mirrors: dict[int, str] = {}
    for i, record in enumerate(records):
        value = record.get(key) if key is not None and isinstance(record, dict) else None
        route = deployment.policy.choose(value)
        groups.setdefault(route.arm, []).append(i)
        if route.mirror is not None:
            mirrors[i] = route.mirror
    return groups, mirrors


async def _shadow(
    deployment: CompiledDeployment,
    mirrors: dict[int, str],
    records: list[Any],
    primary: ScoredRequest,
    mirrored: list[tuple[int, int]],
    sink: PredictionSink,
) -> None:
    """Score the mirrored records on their shadow arm and log them; failures only logged."""
    by_arm: dict[str, list[tuple[int, int]]] = {}
    for k, i in mirrored:
        by_arm.setdefault(mirrors[i], []).append((k, i))
    for arm, pairs in by_arm.items():
        model = deployment.models[arm]
        started = time.perf_counter()
        try:
            scored = await run_in_threadpool(
                score, model, Payload([records[i] for _, i in pairs], is_batch=True)
            )
        except Exception:
            logger.warning("Shadow arm %s of %s failed on a mirrored request", arm, deployment.name)
            continue
        ids = [primary.log.request_ids[k] + SHADOW_SUFFIX for k, _ in pairs]
        log = dataclasses.replace(
            scored.log, request_ids=ids, latency_ms=(time.perf_counter() - started) * 1000.0
        )
        await log_predictions(sink, log, f"{deployment.name}/{arm}")
