"""Serving: the FastAPI prediction app, its prediction logger, and batch scoring of files."""

from loopml.serve._app import (
    create_app,
    get_body_limit,
    get_deployments,
    get_feedback,
    get_model,
    get_resolver,
    get_sink,
)
from loopml.serve._batch import BatchResult, score_file, score_query_to_file, score_to_table
from loopml.serve._body import MalformedBodyError, PayloadTooLargeError
from loopml.serve._deployments import (
    ArmCounters,
    CompiledDeployment,
    DeploymentResolver,
    StaticDeployments,
    unknown_deployment_error,
)
from loopml.serve._feedback import FeedbackSink, StoreFeedbackSink, parse_feedback
from loopml.serve._interfaces import (
    LoadedModel,
    ModelResolver,
    PredictionSink,
    StaticResolver,
    unknown_model_error,
)
from loopml.serve._logger import BackgroundPredictionLogger
from loopml.serve._metrics import ServingMetrics
from loopml.serve._package import Package, kubernetes_manifests, write_package
from loopml.serve._routed import SHADOW_SUFFIX
from loopml.serve._routing import (
    FixedPolicy,
    Route,
    RoutingPolicy,
    ShadowPolicy,
    StickySplitPolicy,
    ThompsonPolicy,
    WeightedPolicy,
    compile_policy,
)
from loopml.serve._schema import RequestSchema, build_request_schema
from loopml.serve._server import serve
from loopml.serve._testing import running_server

__all__ = [
    "SHADOW_SUFFIX",
    "ArmCounters",
    "BackgroundPredictionLogger",
    "BatchResult",
    "CompiledDeployment",
    "DeploymentResolver",
    "FeedbackSink",
    "FixedPolicy",
    "LoadedModel",
    "MalformedBodyError",
    "ModelResolver",
    "Package",
    "PayloadTooLargeError",
    "PredictionSink",
    "RequestSchema",
    "Route",
    "RoutingPolicy",
    "ServingMetrics",
    "ShadowPolicy",
    "StaticDeployments",
    "StaticResolver",
    "StickySplitPolicy",
    "StoreFeedbackSink",
    "ThompsonPolicy",
    "WeightedPolicy",
    "build_request_schema",
    "compile_policy",
    "create_app",
    "get_body_limit",
    "get_deployments",
    "get_feedback",
    "get_model",
    "get_resolver",
    "get_sink",
    "kubernetes_manifests",
    "parse_feedback",
    "running_server",
    "score_file",
    "score_query_to_file",
    "score_to_table",
    "serve",
    "unknown_deployment_error",
    "unknown_model_error",
    "write_package",
]
