"""Packaging a served model: Dockerfile, pinned requirements and Kubernetes manifests.

The folder written by :func:`write_package` is self-contained: ``model.bundle`` (the verified
artifact bytes), ``requirements.txt`` (the exact versions of this environment), a ``Dockerfile``
whose start command is ``python -m loopml.serve._entry --bundle model.bundle …`` (it checks
``model.bundle.sha256`` before loading), ``background.parquet`` when given (holdout rows: the
explanation background of linear models and the rows fast scoring is verified on), and
``kubernetes.yaml`` (a Deployment with readiness on ``/ready``, liveness on ``/health`` and
Prometheus scrape annotations, plus a Service).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import yaml

from loopml.errors import AlreadyExistsError

START_COMMAND = ["python", "-m", "loopml.serve._entry", "--bundle", "model.bundle", "--name"]
"""The container's start command (run from the package folder); the model's name, then
``--version``, ``--host`` and ``--port`` follow."""

BACKGROUND_FILE = "background.parquet"
"""Typical input rows packaged beside the model (read by the start command when present)."""

_PACKAGES = (
    "loopml", "scikit-learn", "lightgbm", "pandas", "numpy", "scipy", "pyarrow", "pydantic",
    "fastapi", "starlette", "uvicorn", "orjson", "prometheus-client", "joblib", "httptools",
    "uvloop", "skops", "sqlalchemy", "pandera", "pyyaml", "typer", "rich", "jinja2", "numba",
    "llvmlite",
)  # fmt: skip


@dataclass(frozen=True)
class Package:
    """What :func:`write_package` wrote."""

    folder: Path
    files: list[Path]


def write_package(
    bundle_bytes: bytes,
    folder: Path,
    *,
    name: str,
    version: int,
    port: int = 8000,
    replicas: int = 2,
    image: str | None = None,
    background: bytes | None = None,
) -> Package:
    """Write the package of one model version into ``folder`` (created; must be empty);
    ``background`` is Parquet bytes of typical input rows (see the module docstring).

    Raises:
        AlreadyExistsError: ``folder`` exists and is not empty.
    """
    if folder.exists() and any(folder.iterdir()):
        raise AlreadyExistsError(
            f"The folder {folder} is not empty.", hint="Package into a new or empty folder."
        )
    folder.mkdir(parents=True, exist_ok=True)
    app = _dns_name(name)
    image = image or f"{app}:{version}"
    files = {
        "model.bundle": bundle_bytes,
        "model.bundle.sha256": hashlib.sha256(bundle_bytes).hexdigest().encode(),
        "requirements.txt": requirements().encode(),
        "Dockerfile": _dockerfile(name, version, port, background is not None).encode(),
        "kubernetes.yaml": kubernetes_manifests(app, image, port, replicas, version).encode(),
    }
    if background is not None:
        files[BACKGROUND_FILE] = background
    written = []
    for filename, content in files.items():
        path = folder / filename
        path.write_bytes(content)
        written.append(path)
    return Package(folder, written)


def requirements() -> str:
    """Exact pins (``name==version``) of the serving packages installed here."""
    lines = []
    for package in _PACKAGES:
        try:
            lines.append(f"{package}=={metadata.version(package)}")
        except metadata.PackageNotFoundError:
            continue
    return "\n".join(lines) + "\n"


def kubernetes_manifests(app: str, image: str, port: int, replicas: int, version: int) -> str:
    """A Deployment and a Service for ``image``, as one multi-document YAML text."""
    labels = {"app": app, "loopml/model-version": str(version)}
    probe = {"httpGet": {"path": "/ready", "port": port}, "periodSeconds": 5}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": app, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": app}},
            "template": {
                "metadata": {
                    "labels": labels,
                    "annotations": {
                        "prometheus.io/scrape": "true",
                        "prometheus.io/port": str(port),
                        "prometheus.io/path": "/metrics",
                    },
                },
                "spec": {
                    "containers": [
                        {
                            "name": "model",
                            "image": image,
                            "ports": [{"containerPort": port, "name": "http"}],
                            "readinessProbe": {**probe, "initialDelaySeconds": 2},
                            "livenessProbe": {
                                "httpGet": {"path": "/health", "port": port},
                                "periodSeconds": 10,
                            },
                            "resources": {
                                "requests": {"cpu": "500m", "memory": "512Mi"},
                                "limits": {"memory": "1Gi"},
                            },
                        }
                    ]
                },
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": app, "labels": {"app": app}},
        "spec": {
            "selector": {"app": app},
            "ports": [{"name": "http", "port": 80, "targetPort": port}],
        },
    }
    return yaml.safe_dump_all([deployment, service], sort_keys=False)


def _dockerfile(name: str, version: int, port: int, background: bool) -> str:
    parts = [*START_COMMAND, name, "--version", str(version), "--host", "0.0.0.0"]
    command = ", ".join(f'"{part}"' for part in parts)
    return (
        "FROM python:3.11-slim\n"
        "WORKDIR /srv\n"
        "COPY requirements.txt .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\n"
        f"COPY model.bundle model.bundle.sha256{' ' + BACKGROUND_FILE if background else ''} ./\n"
        f"EXPOSE {port}\n"
        "USER nobody\n"
        f'CMD [{command}, "--port", "{port}"]\n'
    )


def _dns_name(name: str) -> str:
    cleaned = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    return cleaned[:63] or "model"
