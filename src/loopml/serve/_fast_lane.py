"""The fast lane of ``POST /v1/models/{name}/predict``: a pure ASGI handler in front of FastAPI.

For a small request to a compiled or ONNX model, FastAPI's own wrappers (telemetry, body limit),
Starlette's error middleware, routing and dependency solving cost more than validating and
scoring the record. :class:`ServingApp` therefore runs the lane before any of them. The lane
answers the common case itself, with the same body, headers, Prometheus metrics and prediction
log as the FastAPI route: a served model name, no query string, a JSON body within the size
limit that validates, at most :data:`~loopml.serve._predict.INLINE_RECORDS` records scored
inline.

Everything else is handed to the FastAPI app unchanged, with the body already read replayed:
a query string (``?explain=true``), dependency overrides (tests), middleware added to the app
after it was built, an unknown model, a request that fails (400, 413, 422, 500, ...), a large
batch or a scikit-learn pipeline scored in the thread pool. Errors therefore keep their one
shape, produced in one place.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from loopml.errors import LoopmlError
from loopml.serve._body import parse_payload
from loopml.serve._predict import log_predictions, runs_inline, score

ROUTE = "/v1/models/{name}/predict"
"""The route label of the lane's requests in the metrics (the FastAPI route's path)."""

_PREFIX = "/v1/models/"
_SUFFIX = "/predict"
_JSON_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


class ServingApp(FastAPI):
    """A FastAPI app whose simple prediction requests are answered by :class:`PredictFastLane`
    before FastAPI's stack runs, whoever serves the app (``loopml serve``, uvicorn, a test).

    Middleware added after :meth:`seal` (authentication, say) must see every request, so the
    lane steps aside for good once there is any; so it does while dependency overrides are set.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._own_middleware = 0
        self._lane = PredictFastLane(super().__call__, owner=self)

    def seal(self) -> None:
        """Take the middleware added so far as the app's own (the lane runs in front of it)."""
        self._own_middleware = len(self.user_middleware)

    @property
    def lane_open(self) -> bool:
        """Whether the fast lane may answer requests (see the class docstring)."""
        return not self.dependency_overrides and len(self.user_middleware) == self._own_middleware

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._lane(scope, receive, send)


class PredictFastLane:
    """ASGI wrapper answering simple prediction requests before ``app`` (the FastAPI stack of
    ``owner``, whose state holds the models, metrics and prediction sink) sees them.

    Contract: a request the lane answers gets exactly what the FastAPI route would send for it
    (status 200, ``application/json``, the same body), is counted in the app's metrics under
    :data:`ROUTE`, and its predictions are handed to the app's sink after the response is sent.
    The lane never answers an error itself.
    """

    def __init__(self, app: ASGIApp, owner: ServingApp) -> None:
        self.app = app
        self.owner = owner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        name = _model_name(scope)
        if name is None or not self.owner.lane_open:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state = self.owner.state
        body, complete = await _read_body(scope, receive, state.max_body_bytes)
        if body is None:  # the client went away
            return
        if not complete:
            await self.app(scope, _replay(body, more=True, receive=receive), send)
            return
        answered = await self._answer(name, body, state, send, started)
        if not answered:
            await self.app(scope, _replay(body, more=False, receive=receive), send)

    async def _answer(self, name: str, body: bytes, state: Any, send: Send, started: float) -> bool:
        """Score and send; False (nothing sent) when the FastAPI route must answer instead."""
        try:
            model = state.resolver.resolve(name)
            payload = parse_payload(body, model.schema.field_names)
            if not runs_inline(model, payload, explain=False):
                return False
            scored = score(model, payload)
            content = orjson.dumps(scored.body, option=_JSON_OPTIONS)
        except LoopmlError:
            return False
        except Exception:  # the FastAPI route logs it and answers 500 in the one error shape
            return False
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-length", str(len(content)).encode("latin-1")),
                    (b"content-type", b"application/json"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": content})
        state.metrics.observe(
            ROUTE, "POST", model.name, str(model.version), 200, time.perf_counter() - started
        )
        if state.sink is not None:
            await log_predictions(state.sink, scored.log)
        return True


def _model_name(scope: Scope) -> str | None:
    """The model name of a plain ``POST /v1/models/{name}/predict``, else None."""
    if scope["type"] != "http" or scope["method"] != "POST" or scope.get("query_string"):
        return None
    path: str = scope["path"]
    if not (path.startswith(_PREFIX) and path.endswith(_SUFFIX)):
        return None
    name = path[len(_PREFIX) : -len(_SUFFIX)]
    return name if name and "/" not in name else None


async def _read_body(scope: Scope, receive: Receive, limit: int) -> tuple[bytes | None, bool]:
    """The body and whether it is complete; incomplete once it is known to exceed ``limit``
    (the route then answers 413). ``(None, False)`` when the client disconnected."""
    for key, value in scope["headers"]:
        if key == b"content-length" and value.isdigit() and int(value) > limit:
            return b"", False
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None, False
        chunk = message.get("body", b"")
        size += len(chunk)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True
        if size > limit:
            return b"".join(chunks), False


def _replay(body: bytes, *, more: bool, receive: Receive) -> Receive:
    """A ``receive`` that first yields the body already read, then reads on from the client."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": more}]

    async def replayed() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return replayed
