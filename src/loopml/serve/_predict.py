"""Scoring one request: validated records in, response body and prediction log records out."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from loopml.errors import InvalidInputError
from loopml.serve._body import Payload
from loopml.serve._interfaces import LoadedModel, PredictionSink
from loopml.store._records import PredictionRecord, utcnow

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScoredRequest:
    """The JSON body to answer with, and what to log once the answer is sent."""

    body: dict[str, Any]
    log: PredictionLog


@dataclass(frozen=True)
class PredictionLog:
    """The facts of one scored request, turned into log records off the response path."""

    model: LoadedModel
    time: datetime
    request_ids: list[str]
    inputs: dict[str, list[Any]]
    outputs: dict[str, list[Any]]
    latency_ms: float

    def records(self, deployment: str = "") -> list[PredictionRecord]:
        """One :class:`PredictionRecord` per scored record, with JSON-able inputs and outputs."""
        dates = self.model.schema.datetime_columns
        inputs = {
            name: _jsonable(values) if name in dates else values
            for name, values in self.inputs.items()
        }
        return [
            PredictionRecord(
                request_id=request_id,
                time=self.time,
                model_name=self.model.name,
                model_version=self.model.version,
                inputs={name: values[i] for name, values in inputs.items()},
                outputs={name: values[i] for name, values in self.outputs.items()},
                latency_ms=self.latency_ms,
                deployment=deployment,
            )
            for i, request_id in enumerate(self.request_ids)
        ]


async def log_predictions(sink: PredictionSink, log: PredictionLog, deployment: str = "") -> None:
    """Hand a request's records to ``sink`` (run after the response is sent); a failing sink is
    logged, never surfaced to the client."""
    try:
        sink.submit(log.records(deployment))
    except Exception:
        logger.exception("Could not hand %d prediction(s) to the log", len(log.request_ids))


def new_request_ids(n: int) -> list[str]:
    """``n`` fresh request ids: UUID version 7 as 32 hex digits (a 48-bit millisecond time,
    then 74 random bits), so ids sort by time. The prediction log is keyed by request id, and
    time-ordered keys append to its index instead of landing on random pages: inserts into a
    large log are several times cheaper than with random (version 4) ids."""
    millis = time.time_ns() // 1_000_000
    noise = os.urandom(10 * n)
    ids = []
    for i in range(n):
        rand = int.from_bytes(noise[10 * i : 10 * i + 10], "big")
        value = (millis << 80) | (0x7 << 76) | ((rand >> 62) & 0xFFF) << 64
        value |= (0b10 << 62) | (rand & ((1 << 62) - 1))
        ids.append(f"{value:032x}")
    return ids


EXPLAIN_TOP = 5

INLINE_RECORDS = 8
"""Requests of at most this many records to a compiled or ONNX model are scored on the event
loop: they take tens of microseconds, less than a hop to the thread pool and back."""


def runs_inline(model: LoadedModel, payload: Payload, explain: bool) -> bool:
    """Whether :func:`score` is cheap enough to run on the event loop for this request."""
    return (
        not explain
        and model.predictor.kind != "pipeline"
        and len(payload.records) <= INLINE_RECORDS
    )


def _explanations(model: LoadedModel, frame: pd.DataFrame) -> list[list[dict[str, Any]]]:
    """The top contributions per record, in original columns (see :func:`loopml.evaluate.explain`).

    Raises:
        InvalidInputError: the model has no fast SHAP path, or is linear and was loaded
            without a background sample.
    """
    # Imported here: SHAP and the evaluation stack load only when an explanation is asked for.
    from loopml.evaluate import explain
    from loopml.evaluate._shap import explainer_kind

    if explainer_kind(model.bundle) == "linear" and model.background is None:
        raise InvalidInputError(
            f"Model {model.ref} is linear and was loaded without background rows, so its "
            "predictions cannot be explained.",
            hint="Load it with LoadedModel(..., background=<typical rows>) or drop ?explain=true.",
        )
    return explain(model.bundle, frame, top=EXPLAIN_TOP, background=model.background)


def score(model: LoadedModel, payload: Payload, explain: bool = False) -> ScoredRequest:
    """Validate the payload against the model's schema, predict, and shape the response.

    With ``explain`` each record also gets ``explanation``: its :data:`EXPLAIN_TOP` largest
    ``{column, value, contribution}`` (not logged).

    Raises:
        InvalidInputError: a record breaks the schema, the model rejects the input, or
            (``explain``) the model cannot be explained.
    """
    started = time.perf_counter()
    at = utcnow()
    n = len(payload.records)
    values = model.schema.validate(payload.records)
    warnings = model.schema.warnings(values, n)
    try:
        outputs = model.predictor.predict(values, n)
    except (ValueError, TypeError) as exc:
        raise InvalidInputError(
            f"Model {model.ref} cannot score the input: {exc}",
            hint=f"Check the values against GET /v1/models/{model.name}.",
        ) from None
    request_ids = new_request_ids(n)
    items = [_item(request_ids[i], outputs, i, warnings[i]) for i in range(n)]
    if explain:
        frame = model.schema.frame(values)
        for item, contributions in zip(items, _explanations(model, frame), strict=True):
            item["explanation"] = contributions
    if payload.is_batch:
        body: dict[str, Any] = {
            "model": model.ref,
            "model_version": model.version,
            "predictions": items,
        }
    else:
        item = items[0]
        body = {
            "request_id": item.pop("request_id"),
            "model": model.ref,
            "model_version": model.version,
            **item,
        }
    latency_ms = (time.perf_counter() - started) * 1000.0
    return ScoredRequest(body, PredictionLog(model, at, request_ids, values, outputs, latency_ms))


def _item(
    request_id: str, outputs: dict[str, list[Any]], i: int, warnings: list[dict[str, Any]]
) -> dict[str, Any]:
    item: dict[str, Any] = {"request_id": request_id}
    for name, values in outputs.items():
        item[name] = values[i]
    if warnings:
        item["warnings"] = warnings
    return item


def _jsonable(values: list[Any]) -> list[Any]:
    if any(isinstance(v, datetime) for v in values):
        return [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return values
