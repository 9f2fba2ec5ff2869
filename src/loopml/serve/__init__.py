"""Serving: the FastAPI prediction app, its prediction logger, and batch scoring of files."""

from loopml.serve._app import create_app, get_body_limit, get_model, get_resolver, get_sink
from loopml.serve._batch import BatchResult, score_file
from loopml.serve._body import MalformedBodyError, PayloadTooLargeError
from loopml.serve._interfaces import (
    LoadedModel,
    ModelResolver,
    PredictionSink,
    StaticResolver,
    unknown_model_error,
)
from loopml.serve._logger import BackgroundPredictionLogger
from loopml.serve._schema import RequestSchema, build_request_schema
from loopml.serve._server import serve
from loopml.serve._testing import running_server

__all__ = [
    "BackgroundPredictionLogger",
    "BatchResult",
    "LoadedModel",
    "MalformedBodyError",
    "ModelResolver",
    "PayloadTooLargeError",
    "PredictionSink",
    "RequestSchema",
    "StaticResolver",
    "build_request_schema",
    "create_app",
    "get_body_limit",
    "get_model",
    "get_resolver",
    "get_sink",
    "running_server",
    "score_file",
    "serve",
    "unknown_model_error",
]
