"""Serving: the FastAPI prediction app, its prediction logger, and batch scoring of files."""

from typing import TYPE_CHECKING

from loopml._lazy import lazy_exports

if TYPE_CHECKING:
    from loopml.serve._app import (
        create_app,
        get_body_limit,
        get_deployments,
        get_feedback,
        get_model,
        get_resolver,
        get_sink,
    )
    from loopml.serve._arm_counters import ArmCounters
    from loopml.serve._batch import BatchResult, score_file, score_query_to_file, score_to_table
    from loopml.serve._body import MalformedBodyError, PayloadTooLargeError
    from loopml.serve._deployments import (
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
    from loopml.serve._routing import (
        SHADOW_SUFFIX,
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

_EXPORTS = {
    "create_app": "loopml.serve._app",
    "get_body_limit": "loopml.serve._app",
    "get_deployments": "loopml.serve._app",
    "get_feedback": "loopml.serve._app",
    "get_model": "loopml.serve._app",
    "get_resolver": "loopml.serve._app",
    "get_sink": "loopml.serve._app",
    "BatchResult": "loopml.serve._batch",
    "score_file": "loopml.serve._batch",
    "score_query_to_file": "loopml.serve._batch",
    "score_to_table": "loopml.serve._batch",
    "MalformedBodyError": "loopml.serve._body",
    "PayloadTooLargeError": "loopml.serve._body",
    "ArmCounters": "loopml.serve._arm_counters",
    "CompiledDeployment": "loopml.serve._deployments",
    "DeploymentResolver": "loopml.serve._deployments",
    "StaticDeployments": "loopml.serve._deployments",
    "unknown_deployment_error": "loopml.serve._deployments",
    "FeedbackSink": "loopml.serve._feedback",
    "StoreFeedbackSink": "loopml.serve._feedback",
    "parse_feedback": "loopml.serve._feedback",
    "LoadedModel": "loopml.serve._interfaces",
    "ModelResolver": "loopml.serve._interfaces",
    "PredictionSink": "loopml.serve._interfaces",
    "StaticResolver": "loopml.serve._interfaces",
    "unknown_model_error": "loopml.serve._interfaces",
    "BackgroundPredictionLogger": "loopml.serve._logger",
    "ServingMetrics": "loopml.serve._metrics",
    "Package": "loopml.serve._package",
    "kubernetes_manifests": "loopml.serve._package",
    "write_package": "loopml.serve._package",
    "SHADOW_SUFFIX": "loopml.serve._routing",
    "FixedPolicy": "loopml.serve._routing",
    "Route": "loopml.serve._routing",
    "RoutingPolicy": "loopml.serve._routing",
    "ShadowPolicy": "loopml.serve._routing",
    "StickySplitPolicy": "loopml.serve._routing",
    "ThompsonPolicy": "loopml.serve._routing",
    "WeightedPolicy": "loopml.serve._routing",
    "compile_policy": "loopml.serve._routing",
    "RequestSchema": "loopml.serve._schema",
    "build_request_schema": "loopml.serve._schema",
    "serve": "loopml.serve._server",
    "running_server": "loopml.serve._testing",
}

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
