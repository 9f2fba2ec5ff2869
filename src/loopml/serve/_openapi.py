"""The OpenAPI document: the app's fixed routes plus one documented predict path per served model.

Models are resolved at request time, so one generic route serves them all; this module documents
``/v1/models/<name>/predict`` for each model the resolver serves right now, with the request
schema compiled from its data contract and the response fields it returns.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from loopml.errors import LoopmlError
from loopml.serve._interfaces import LoadedModel, ModelResolver

_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "error": {"type": "string", "description": "Machine-readable error code."},
        "message": {"type": "string", "description": "One sentence saying what is wrong."},
        "hint": {"type": "string", "description": "How to fix it."},
        "details": {"description": "Per-field problems: field, record index and message."},
    },
    "required": ["error", "message"],
}

_WARNINGS_SCHEMA: dict[str, Any] = {
    "type": "array",
    "description": "Values accepted but unlike the training data (unseen category, out of range).",
    "items": {
        "type": "object",
        "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
    },
}


def openapi_builder(app: FastAPI, resolver: Callable[[], ModelResolver]) -> Callable[[], Any]:
    """A replacement for ``app.openapi`` that adds each served model's predict path."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
        document = copy.deepcopy(app.openapi_schema)
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        schemas.setdefault("Error", _ERROR_SCHEMA)
        served = resolver()
        for name in served.names():
            try:
                model = served.resolve(name)
            except LoopmlError:
                continue  # /ready reports models that fail to load
            document["paths"][f"/v1/models/{name}/predict"] = _predict_path(model, schemas)
        return document

    return build


def _predict_path(model: LoadedModel, schemas: dict[str, Any]) -> dict[str, Any]:
    record = model.schema.record_model.model_json_schema(
        by_alias=True, ref_template="#/components/schemas/{model}"
    )
    schemas.update(record.pop("$defs", {}))
    record_name = _unique(record.get("title", "Record"), schemas)
    schemas[record_name] = record
    ref = {"$ref": f"#/components/schemas/{record_name}"}
    records = {"type": "array", "items": ref, "minItems": 1}
    request = {"anyOf": [ref, records, {"type": "object", "properties": {"records": records}}]}
    one, many = _response_schemas(model)
    return {
        "post": {
            "summary": f"Predict with {model.ref}",
            "description": (
                f"Score one record (a JSON object), a list of records, or {{'records': [...]}} "
                f"with model {model.ref} ({model.bundle.task})."
            ),
            "tags": ["predict"],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": request}},
            },
            "responses": {
                "200": {
                    "description": "The prediction (one record) or predictions (a list).",
                    "content": {"application/json": {"schema": {"anyOf": [one, many]}}},
                },
                **{
                    status: {
                        "description": description,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                        },
                    }
                    for status, description in (
                        ("400", "The body is not JSON."),
                        ("404", "No model of that name is served."),
                        ("413", "The body is too large."),
                        ("422", "A record does not match the model's inputs."),
                    )
                },
            },
        }
    }


def _response_schemas(model: LoadedModel) -> tuple[dict[str, Any], dict[str, Any]]:
    outputs: dict[str, Any] = {"prediction": _prediction_schema(model)}
    for column in model.bundle.output_columns[1:]:
        outputs[column] = {"type": "number", "minimum": 0, "maximum": 1}
    request_id = {"type": "string", "description": "Id to send ground truth for later."}
    item = {
        "type": "object",
        "properties": {"request_id": request_id, **outputs, "warnings": _WARNINGS_SCHEMA},
    }
    header = {"model": {"type": "string"}, "model_version": {"type": "integer"}}
    one = {
        "type": "object",
        "properties": {"request_id": request_id, **header, **outputs, "warnings": _WARNINGS_SCHEMA},
    }
    many = {
        "type": "object",
        "properties": {**header, "predictions": {"type": "array", "items": item}},
    }
    return one, many


def _prediction_schema(model: LoadedModel) -> dict[str, Any]:
    bundle = model.bundle
    if not bundle.is_classifier:
        return {"type": "number"}
    classes = [c.item() if hasattr(c, "item") else c for c in bundle.classes]
    if all(isinstance(c, bool) for c in classes):
        kind = "boolean"
    elif all(isinstance(c, int) for c in classes):
        kind = "integer"
    else:
        kind = "string"
        classes = [str(c) for c in classes]
    return {"type": kind, "enum": classes}


def _unique(name: str, taken: dict[str, Any]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}{n}", n + 1
    return candidate
