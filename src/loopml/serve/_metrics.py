"""Prometheus metrics of one serving app: requests, errors and latency per route and model.

Each app gets its own :class:`prometheus_client.CollectorRegistry`, so several apps in one
process (tests, workers started in-process) never share or double-register counters. The
metrics are recorded by a pure ASGI middleware, which costs one clock read and three label
look-ups per request; endpoints name the model they served in ``scope["state"]``.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SERVED_MODEL = "loopml_served_model"
"""Key of ``scope["state"]`` where an endpoint puts ``(model_name, version)`` it served."""

_LATENCY_BUCKETS = (
    0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5
)  # fmt: skip


_Children = tuple[Any, Any, Any]
"""The requests counter, errors counter (None below status 400) and latency histogram of one
label set."""


def mark_served(request: Request, name: str, version: int | str) -> None:
    """Label the request's metrics with the model version that served it."""
    request.scope.setdefault("state", {})[SERVED_MODEL] = (name, version)


class ServingMetrics:
    """The counters and histogram of one app, in their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ("route", "method", "model", "version")
        self.requests = Counter(
            "loopml_requests",
            "HTTP requests answered, by route, model version and status code.",
            (*labels, "status"),
            registry=self.registry,
        )
        self.errors = Counter(
            "loopml_request_errors",
            "HTTP requests answered with a 4xx or 5xx status.",
            labels,
            registry=self.registry,
        )
        self.latency = Histogram(
            "loopml_request_latency_seconds",
            "Time from receiving a request to sending its last byte.",
            labels,
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        # The labelled children per label set: prometheus_client checks and joins the labels
        # on every ``labels()`` call, which costs more than the increments themselves.
        self._children: dict[tuple[str, str, str, str, int], _Children] = {}

    def exposition(self) -> bytes:
        """The metrics in the Prometheus text format."""
        return generate_latest(self.registry)

    def observe(
        self, route: str, method: str, model: str, version: str, status: int, seconds: float
    ) -> None:
        """Count one answered request."""
        key = (route, method, model, version, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                self.requests.labels(route, method, model, version, str(status)),
                self.errors.labels(route, method, model, version) if status >= 400 else None,
                self.latency.labels(route, method, model, version),
            )
        requests, errors, latency = children
        requests.inc()
        if errors is not None:
            errors.inc()
        latency.observe(seconds)


class MetricsMiddleware:
    """ASGI middleware recording every HTTP request into ``metrics``.

    Requests that match no route are counted under the route ``unmatched``, so a scan of random
    paths cannot create unbounded label values.
    """

    def __init__(self, app: ASGIApp, metrics: ServingMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")
            state: dict[str, Any] = scope.get("state") or {}
            model, version = state.get(SERVED_MODEL, ("", ""))
            self.metrics.observe(
                path, scope["method"], model, str(version), status, time.perf_counter() - started
            )
