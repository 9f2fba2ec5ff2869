"""FastAPI dependencies: everything an endpoint uses comes from ``app.state`` through these.

Tests replace any of them with ``app.dependency_overrides``. They are coroutines because FastAPI
runs plain-function dependencies in its thread pool, a round trip per dependency per request.
"""

from __future__ import annotations

from fastapi import Depends, Request

from loopml.errors import NotFoundError
from loopml.serve._arm_counters import ArmCounters
from loopml.serve._deployments import DeploymentResolver, StaticDeployments
from loopml.serve._feedback import FeedbackSink
from loopml.serve._interfaces import LoadedModel, ModelResolver, PredictionSink
from loopml.serve._metrics import ServingMetrics


async def get_resolver(request: Request) -> ModelResolver:
    """The app's model resolver."""
    resolver: ModelResolver = request.app.state.resolver
    return resolver


async def get_sink(request: Request) -> PredictionSink | None:
    """The app's prediction sink, or None when predictions are not logged."""
    sink: PredictionSink | None = request.app.state.sink
    return sink


async def get_body_limit(request: Request) -> int:
    """The largest accepted request body, in bytes."""
    limit: int = request.app.state.max_body_bytes
    return limit


async def get_model(name: str, resolver: ModelResolver = Depends(get_resolver)) -> LoadedModel:
    """The model named in the path. Raises NotFoundError (404) naming the served models."""
    return resolver.resolve(name)


async def get_feedback(request: Request) -> FeedbackSink:
    """The app's feedback sink. Raises NotFoundError (404) when the app takes no feedback."""
    feedback: FeedbackSink | None = request.app.state.feedback
    if feedback is None:
        raise NotFoundError(
            "This server does not take feedback.",
            hint="Serve with a metadata store (loopml serve) to record ground truth.",
        )
    return feedback


async def get_deployments(request: Request) -> DeploymentResolver:
    """The app's deployments (an empty set when it serves none)."""
    deployments: DeploymentResolver | None = request.app.state.deployments
    return deployments if deployments is not None else StaticDeployments({})


async def get_counters(request: Request) -> ArmCounters:
    """Per-arm request and failure counts of this process."""
    counters: ArmCounters = request.app.state.arm_counters
    return counters


async def get_metrics(request: Request) -> ServingMetrics:
    """The app's Prometheus metrics."""
    metrics: ServingMetrics = request.app.state.metrics
    return metrics
