"""The V2 (Open Inference: KServe, Triton, MLServer) protocol over the same models.

``POST /v2/models/{name}/infer`` takes columnar ``inputs`` — one tensor per contract field
(``{"name", "shape", "datatype", "data"}``), or a single ``[n, n_features]`` tensor whose columns
are the model's inputs in training order — validates them through the model's request schema,
and answers ``outputs``: ``prediction``, one ``probability_<class>`` per class, and
``request_id`` (to send feedback with). Errors keep the API's one JSON shape, whose ``error``
member is a string as the protocol asks.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from starlette.concurrency import run_in_threadpool

from loopml import __version__
from loopml.errors import InvalidInputError, LoopmlError, NotFoundError
from loopml.serve._body import Payload, load_json, read_body
from loopml.serve._deps import get_body_limit, get_model, get_resolver, get_sink
from loopml.serve._handlers import JSONBytesResponse
from loopml.serve._interfaces import LoadedModel, ModelResolver, PredictionSink
from loopml.serve._metrics import mark_served
from loopml.serve._predict import log_predictions, runs_inline, score

_DATATYPES = {
    "integer": "INT64",
    "float": "FP64",
    "boolean": "BOOL",
    "category": "BYTES",
    "string": "BYTES",
    "datetime": "BYTES",
}

router = APIRouter(prefix="/v2", tags=["V2 inference protocol"])


@router.get("")
async def server_metadata() -> dict[str, Any]:
    """Server metadata."""
    return {"name": "loopml", "version": __version__, "extensions": []}


@router.get("/health/live")
async def live() -> dict[str, bool]:
    """Liveness: the process answers."""
    return {"live": True}


@router.get("/health/ready")
async def ready(resolver: ModelResolver = Depends(get_resolver)) -> JSONBytesResponse:
    """Readiness: 200 when every served model loaded, else 503."""
    names = resolver.names()
    ok = bool(names) and all(_loads_ok(resolver, name) for name in names)
    return JSONBytesResponse({"ready": ok}, status_code=200 if ok else 503)


@router.get("/models/{name}")
async def model_metadata(model: LoadedModel = Depends(get_model)) -> JSONBytesResponse:
    """The model's versions, input tensors (one per contract field) and output tensors."""
    return JSONBytesResponse(
        {
            "name": model.name,
            "versions": [str(model.version)],
            "platform": f"loopml-{model.bundle.family or 'sklearn'}",
            "inputs": [
                {"name": spec.name, "datatype": _DATATYPES[spec.dtype], "shape": [-1]}
                for spec in model.schema.columns
            ],
            "outputs": [
                {"name": column, "datatype": _output_type(model, column), "shape": [-1]}
                for column in [*model.bundle.output_columns, "request_id"]
            ],
        }
    )


@router.get("/models/{name}/ready")
async def model_ready(model: LoadedModel = Depends(get_model)) -> dict[str, Any]:
    """200 when the model is loaded (404 when unknown, 500 with the cause when it failed)."""
    return {"name": model.name, "ready": True}


@router.get("/models/{name}/versions/{version}")
async def version_metadata(
    version: str, model: LoadedModel = Depends(get_model)
) -> JSONBytesResponse:
    """Metadata of the served version (404 for any other version)."""
    _check_version(model, version)
    return await model_metadata(model)


@router.post("/models/{name}/infer")
async def infer(
    request: Request,
    background: BackgroundTasks,
    model: LoadedModel = Depends(get_model),
    sink: PredictionSink | None = Depends(get_sink),
    max_bytes: int = Depends(get_body_limit),
) -> JSONBytesResponse:
    """Score columnar V2 ``inputs``; answers V2 ``outputs``."""
    return await _infer(request, background, model, sink, max_bytes)


@router.post("/models/{name}/versions/{version}/infer")
async def infer_version(
    request: Request,
    background: BackgroundTasks,
    version: str,
    model: LoadedModel = Depends(get_model),
    sink: PredictionSink | None = Depends(get_sink),
    max_bytes: int = Depends(get_body_limit),
) -> JSONBytesResponse:
    """:func:`infer` on an explicit version (404 unless it is the served one)."""
    _check_version(model, version)
    return await _infer(request, background, model, sink, max_bytes)


async def _infer(
    request: Request,
    background: BackgroundTasks,
    model: LoadedModel,
    sink: PredictionSink | None,
    max_bytes: int,
) -> JSONBytesResponse:
    mark_served(request, model.name, model.version)
    body = load_json(await read_body(request, max_bytes))
    records, wanted = v2_records(model, body)
    payload = Payload(records, is_batch=True)
    if runs_inline(model, payload, explain=False):
        scored = score(model, payload)
    else:
        scored = await run_in_threadpool(score, model, payload)
    if sink is not None:
        background.add_task(log_predictions, sink, scored.log)
    items = scored.body["predictions"]
    columns = [*model.bundle.output_columns, "request_id"]
    if wanted is not None:
        unknown = sorted(set(wanted) - set(columns))
        if unknown:
            raise InvalidInputError(
                f"Model {model.name!r} has no output named {', '.join(map(repr, unknown))}.",
                hint=f"Its outputs: {', '.join(columns)}.",
            )
        columns = [c for c in columns if c in wanted]
    response: dict[str, Any] = {
        "model_name": model.name,
        "model_version": str(model.version),
        "outputs": [
            {
                "name": column,
                "datatype": _output_type(model, column),
                "shape": [len(items)],
                "data": [item[column] for item in items],
            }
            for column in columns
        ],
    }
    if isinstance(body.get("id"), str):
        response["id"] = body["id"]
    return JSONBytesResponse(response)


def v2_records(model: LoadedModel, body: Any) -> tuple[list[dict[str, Any]], list[str] | None]:
    """The records of a V2 inference request, and the output names asked for (None: all).

    Raises:
        InvalidInputError: the body is not a V2 request, tensors differ in length, or a tensor's
            data does not match its shape.
    """
    if not isinstance(body, dict) or not isinstance(body.get("inputs"), list) or not body["inputs"]:
        raise InvalidInputError(
            "A V2 inference request is a JSON object with a non-empty 'inputs' list.",
            hint='Send {"inputs": [{"name": …, "shape": [n], "datatype": …, "data": [...]}]}.',
        )
    columns: dict[str, list[Any]] = {}
    for i, tensor in enumerate(body["inputs"]):
        if not isinstance(tensor, dict) or not {"name", "shape", "data"} <= tensor.keys():
            raise InvalidInputError(
                f"Input tensor {i} lacks one of 'name', 'shape' and 'data'.",
                hint="Each input is {name, shape, datatype, data}.",
            )
        columns.update(_tensor_columns(model, tensor))
    lengths = {len(values) for values in columns.values()}
    if len(lengths) != 1:
        raise InvalidInputError(
            f"The input tensors hold different numbers of rows: {sorted(lengths)}.",
            hint="Send every field of the same n records, each with shape [n].",
        )
    n = lengths.pop()
    names = list(columns)
    records = [{name: columns[name][row] for name in names} for row in range(n)]
    wanted = body.get("outputs")
    if wanted is None:
        return records, None
    if not isinstance(wanted, list) or not all(
        isinstance(o, dict) and isinstance(o.get("name"), str) for o in wanted
    ):
        raise InvalidInputError(
            "The 'outputs' member must be a list of {name} objects.",
            hint='For example "outputs": [{"name": "prediction"}].',
        )
    return records, [o["name"] for o in wanted]


def _tensor_columns(model: LoadedModel, tensor: dict[str, Any]) -> dict[str, list[Any]]:
    name, shape, data = tensor["name"], tensor["shape"], tensor["data"]
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise InvalidInputError(
            f"Input {name!r} has shape {shape!r}; a shape is a list of non-negative integers."
        )
    flat = _flatten(data)
    size = 1
    for d in shape:
        size *= d
    if size != len(flat):
        raise InvalidInputError(
            f"Input {name!r} has {len(flat)} value(s) but shape {shape} holds {size}.",
            hint="Send the data row-major, flat or nested, matching the shape.",
        )
    fields = model.schema.column_names
    if name not in fields and len(shape) == 2 and shape[1] == len(fields):
        # One [n, n_features] tensor (e.g. "input-0"), columns in training order.
        width = shape[1]
        return {field: flat[j::width] for j, field in enumerate(fields)}
    if len(shape) > 2 or (len(shape) == 2 and shape[1] != 1):
        raise InvalidInputError(
            f"Input {name!r} has shape {shape}; a field's tensor has shape [n] or [n, 1].",
            hint=f"Or send one [n, {len(fields)}] tensor with the inputs in training order.",
        )
    return {name: flat}


def _flatten(data: Any) -> list[Any]:
    if not isinstance(data, list):
        return [data]
    if not any(isinstance(v, list) for v in data):
        return data
    flat: list[Any] = []
    for value in data:
        flat.extend(_flatten(value))
    return flat


def _output_type(model: LoadedModel, column: str) -> str:
    if column == "request_id":
        return "BYTES"
    if column != "prediction":
        return "FP64"
    if not model.bundle.is_classifier:
        return "FP64"
    classes = model.bundle.classes
    if all(isinstance(c, bool) for c in classes):
        return "BOOL"
    if all(isinstance(c, int) for c in classes):
        return "INT64"
    return "BYTES"


def _check_version(model: LoadedModel, version: str) -> None:
    if version != str(model.version):
        raise NotFoundError(
            f"Model {model.name!r} is served at version {model.version}, not {version}.",
            hint=f"Use /v2/models/{model.name}/infer for the served version.",
        )


def _loads_ok(resolver: ModelResolver, name: str) -> bool:
    try:
        resolver.resolve(name)
    except LoopmlError:
        return False
    return True
