"""JSON responses and the one error shape of the serving API.

Every error answers ``{"error": code, "message": one sentence, "hint"?: …, "details"?: …}``:
:class:`~loopml.errors.LoopmlError` subclasses with their own HTTP status, routing and framework
errors with theirs, and anything unexpected with a 500 whose details stay in the server log.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from loopml.errors import LoopmlError

logger = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


class JSONBytesResponse(Response):
    """A JSON response rendered by orjson (numpy scalars and arrays serialised natively)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)


def install_error_handlers(app: FastAPI) -> None:
    """Map every exception to the JSON error shape; no traceback ever reaches a client."""
    app.add_exception_handler(LoopmlError, _loopml_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected_error)


def error_response(
    status: int, code: str, message: str, hint: str | None = None, details: Any = None
) -> JSONBytesResponse:
    """The JSON error body with ``status``."""
    body: dict[str, Any] = {"error": code, "message": message}
    if hint:
        body["hint"] = hint
    if details is not None:
        body["details"] = details
    return JSONBytesResponse(body, status_code=status)


async def _loopml_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoopmlError)
    if exc.http_status >= 500:
        logger.error("%s %s failed: %s", request.method, request.url.path, exc)
    return JSONBytesResponse(exc.to_dict(), status_code=exc.http_status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        message = f"There is no endpoint {request.url.path}."
        hint: str | None = "See /docs for the endpoints this server offers."
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}."
        hint = f"Use {exc.headers.get('Allow', 'another method')}." if exc.headers else None
    else:
        message, hint = str(exc.detail), None
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    response = error_response(exc.status_code, code, message, hint)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    details = [
        {"field": ".".join(str(p) for p in error["loc"]), "message": error["msg"]}
        for error in exc.errors()
    ]
    first = details[0] if details else {"field": "request", "message": "is invalid"}
    return error_response(
        422,
        "invalid_input",
        f"The request is invalid at {first['field']}: {first['message']}.",
        details=details,
    )


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    logger.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return error_response(
        500,
        "internal_error",
        "The server failed to process the request.",
        hint="The cause is in the server log; retrying will not help until it is fixed.",
    )
