"""Writing a loopml model as an MLflow model directory (``python_function`` flavor).

The directory holds ``MLmodel`` (the flavor, whose ``loader_module`` is
:mod:`loopml.registry._mlflow_flavor`, and a signature built from the data contract),
``model.joblib`` (the whole fitted pipeline; its SHA-256 is checked at load),
``requirements.txt``, ``python_env.yaml`` and ``conda.yaml`` (loopml and the exact versions of
its dependencies installed here). MLflow is not needed to write it.
"""

from __future__ import annotations

import io
import json
import platform
import re
from datetime import UTC, datetime
from importlib import metadata
from typing import Any
from uuid import uuid4

from ruamel.yaml import YAML

from loopml import __version__
from loopml.data._contract import ColumnSpec
from loopml.registry._registry import dump_bundle
from loopml.train import ModelBundle

LOADER_MODULE = "loopml.registry._mlflow_flavor"
MODEL_FILE = "model.joblib"

_MLFLOW_TYPES = {
    "float": "double",
    "boolean": "boolean",
    "category": "string",
    "string": "string",
    "datetime": "datetime",
}


def mlflow_files(bundle: ModelBundle, model_ref: str) -> dict[str, bytes]:
    """The files of an MLflow model directory for ``bundle``, by relative path."""
    model_bytes = dump_bundle(bundle)
    requirements = pinned_requirements()
    python = platform.python_version()
    mlmodel = {
        "artifact_path": None,
        "flavors": {
            "python_function": {
                "loader_module": LOADER_MODULE,
                "data": MODEL_FILE,
                "env": {"conda": "conda.yaml", "virtualenv": "python_env.yaml"},
                "python_version": python,
            },
        },
        "model_uuid": uuid4().hex,
        "utc_time_created": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
        "signature": signature(bundle),
        "metadata": {
            "loopml_model": model_ref,
            "loopml_version": __version__,
            "task": bundle.task,
            "family": bundle.family,
        },
    }
    python_env = {
        "python": python,
        "build_dependencies": [f"pip=={_version('pip') or '24.0'}"],
        "dependencies": ["-r requirements.txt"],
    }
    conda = {
        "name": "loopml-model",
        "channels": ["conda-forge"],
        "dependencies": [f"python={python}", "pip", {"pip": requirements}],
    }
    return {
        "MLmodel": _yaml(mlmodel),
        MODEL_FILE: model_bytes,
        "requirements.txt": ("\n".join(requirements) + "\n").encode(),
        "python_env.yaml": _yaml(python_env),
        "conda.yaml": _yaml(conda),
    }


def signature(bundle: ModelBundle) -> dict[str, Any]:
    """MLflow's column-based signature: inputs from the contract's features, outputs from
    :attr:`ModelBundle.output_columns` (JSON strings, as MLflow stores them)."""
    inputs = [
        {"type": _input_type(spec), "name": spec.name, "required": True}
        for spec in bundle.contract.feature_columns
    ]
    outputs = [
        {"type": _output_type(bundle, column), "name": column, "required": True}
        for column in bundle.output_columns
    ]
    return {"inputs": json.dumps(inputs), "outputs": json.dumps(outputs), "params": None}


def _input_type(spec: ColumnSpec) -> str:
    if spec.role == "text":
        return "string"
    if spec.dtype == "integer":
        # A nullable integer column arrives as floats (NaN); MLflow refuses floats for "long".
        return "long" if spec.max_null_share == 0 else "double"
    return _MLFLOW_TYPES[spec.dtype]


def _output_type(bundle: ModelBundle, column: str) -> str:
    if column != "prediction":
        return "double"
    if not bundle.is_classifier:
        return "double" if bundle.task == "regression" else "long"
    kinds = {type(label.item() if hasattr(label, "item") else label) for label in bundle.classes}
    if kinds == {bool}:
        return "boolean"
    if kinds <= {int}:
        return "long"
    if kinds <= {int, float}:
        return "double"
    return "string"


def pinned_requirements() -> list[str]:
    """``loopml==X`` and ``name==version`` for each of loopml's installed dependencies."""
    pins = {"loopml": __version__}
    try:
        requires = metadata.requires("loopml") or []
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        requires = []
    for requirement in requires:
        if "extra ==" in requirement:
            continue
        name = re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0]
        version = _version(name)
        if version is not None:
            pins[name] = version
    return [f"{name}=={version}" for name, version in pins.items()]


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _yaml(data: dict[str, Any]) -> bytes:
    writer = YAML(typ="safe", pure=True)
    writer.default_flow_style = False
    buffer = io.BytesIO()
    writer.dump(data, buffer)
    return buffer.getvalue()
