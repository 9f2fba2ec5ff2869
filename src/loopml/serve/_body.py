"""Reading a prediction request's body: size limit, JSON parsing, and the three accepted shapes."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request

from loopml.errors import InvalidInputError


class PayloadTooLargeError(InvalidInputError):
    """The request body is larger than the server accepts."""

    http_status = 413
    code = "payload_too_large"


class MalformedBodyError(InvalidInputError):
    """The request body is not JSON."""

    http_status = 400
    code = "invalid_json"


@dataclass(frozen=True)
class Payload:
    """The records of a request and whether the client sent a batch (list) or one record."""

    records: list[Any]
    is_batch: bool


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The whole body, refused as soon as it is known to exceed ``max_bytes``.

    Raises:
        PayloadTooLargeError: the declared or received size is over the limit.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(int(declared), max_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(size, max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_payload(body: bytes, reserved: Collection[str]) -> Payload:
    """Parse a body holding one record (an object), a list of records, or ``{"records": [...]}``.

    ``reserved`` are the model's field names: an object whose only key is ``records`` is a
    wrapper unless ``records`` is itself one of the model's fields.

    Raises:
        MalformedBodyError: the body is empty or not JSON.
        InvalidInputError: the JSON has none of the accepted shapes.
    """
    if not body.strip():
        raise MalformedBodyError(
            "The request body is empty.",
            hint='Send one JSON record, a JSON list of records, or {"records": [...]}.',
        )
    payload = _loads(body)
    if isinstance(payload, list):
        return Payload(payload, is_batch=True)
    if isinstance(payload, dict):
        if payload.keys() == {"records"} and "records" not in reserved:
            records = payload["records"]
            if not isinstance(records, list):
                raise InvalidInputError(
                    "The 'records' member of the request must be a JSON list of records.",
                    hint='Send {"records": [{...}, {...}]}.',
                )
            return Payload(records, is_batch=True)
        return Payload([payload], is_batch=False)
    raise InvalidInputError(
        f"The request body is a JSON {type(payload).__name__}, not a record or a list of records.",
        hint='Send one JSON object, a JSON list of objects, or {"records": [...]}.',
    )


def load_json(body: bytes) -> Any:
    """The JSON value of a non-empty body.

    Raises:
        MalformedBodyError: the body is empty or not JSON.
    """
    if not body.strip():
        raise MalformedBodyError(
            "The request body is empty.",
            hint="Send a JSON body with Content-Type: application/json.",
        )
    return _loads(body)


def _loads(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        try:
            # The standard parser also reads NaN and Infinity, which validation then rejects
            # with a message naming the field instead of a bare syntax error.
            return json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise MalformedBodyError(
                f"The request body is not valid JSON: {exc}.",
                hint="Send the records as JSON with Content-Type: application/json.",
            ) from None


def _too_large(size: int, max_bytes: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"The request body has {size:,} bytes, more than the {max_bytes:,} this server accepts.",
        hint="Split the records over several requests, or score large files with batch scoring.",
    )
