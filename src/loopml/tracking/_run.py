"""Tracked runs: a context manager that buffers params, metrics and tags and writes in batches."""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from loopml.errors import InvalidInputError
from loopml.store import ArtifactStore, MetadataStore, MetricPoint, Run


class ActiveRun:
    """A run being recorded. Use as a context manager (or call :meth:`end`).

    Params, metrics and tags are buffered and written in one transaction when ``flush_every``
    items are pending, on :meth:`flush`, and when the run ends. Leaving the ``with`` block
    normally ends the run ``finished``; an exception ends it ``failed`` (and is re-raised), so
    nothing buffered is lost on either path. Thread-safe.
    """

    def __init__(
        self,
        store: MetadataStore,
        run: Run,
        *,
        artifacts: ArtifactStore | None = None,
        flush_every: int = 1000,
    ) -> None:
        self._store = store
        self._artifacts = artifacts
        self._run = run
        self._flush_every = flush_every
        self._lock = threading.Lock()
        self._params: dict[str, Any] = {}
        self._metrics: list[MetricPoint] = []
        self._tags: dict[str, Any] = {}
        self._artifact_refs: dict[str, str] = {}
        self._ended = False

    @property
    def id(self) -> str:
        return self._run.id

    @property
    def project(self) -> str:
        return self._run.project

    # -- logging -------------------------------------------------------------------------------
    def log_param(self, key: str, value: Any) -> None:
        self.log_params({key: value})

    def log_params(self, params: Mapping[str, Any]) -> None:
        with self._lock:
            self._params.update({k: _param_text(v) for k, v in params.items()})
            self._maybe_flush()

    def log_metric(self, key: str, value: float, step: int = 0) -> None:
        """Record ``value`` of metric ``key`` at ``step``.

        Raises:
            InvalidInputError: ``value`` is not a finite number.
        """
        number = _finite(key, value)
        with self._lock:
            self._metrics.append(MetricPoint(key=key, value=number, step=step))
            self._maybe_flush()

    def log_metrics(self, metrics: Mapping[str, float], step: int = 0) -> None:
        points = [MetricPoint(key=k, value=_finite(k, v), step=step) for k, v in metrics.items()]
        with self._lock:
            self._metrics.extend(points)
            self._maybe_flush()

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        with self._lock:
            self._tags.update({k: str(v) for k, v in tags.items()})
            self._maybe_flush()

    def log_artifact(self, name: str, data: bytes | Path) -> str:
        """Store bytes or a file in the artifact store and attach it as ``name``; returns its
        digest.

        Raises:
            InvalidInputError: the run has no artifact store.
        """
        if self._artifacts is None:
            raise InvalidInputError("This run was started without an artifact store.")
        digest = (
            self._artifacts.put_file(str(data))
            if isinstance(data, Path)
            else self._artifacts.put_bytes(data)
        )
        with self._lock:
            self._artifact_refs[name] = digest
        return digest

    # -- lifecycle -----------------------------------------------------------------------------
    def child(self, name: str, kind: str, **tags: Any) -> ActiveRun:
        """Start a nested run (for example one per candidate or tuning trial)."""
        run = self._store.runs.create(
            self.project,
            name,
            kind,
            parent_id=self.id,
            dataset_id=self._run.dataset_id,
            tags={k: str(v) for k, v in tags.items()},
        )
        return ActiveRun(self._store, run, artifacts=self._artifacts, flush_every=self._flush_every)

    def flush(self) -> None:
        """Write everything buffered in one transaction."""
        with self._lock:
            self._flush_locked()

    def end(self, status: str = "finished") -> Run:
        """Flush and close the run; later calls return the stored run unchanged."""
        if self._ended:
            return self._store.runs.get(self.id)
        self.flush()
        self._ended = True
        self._run = self._store.runs.end(self.id, "failed" if status == "failed" else "finished")
        return self._run

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.end("failed" if exc_type is not None else "finished")

    # -- internals -----------------------------------------------------------------------------
    def _maybe_flush(self) -> None:
        pending = len(self._params) + len(self._metrics) + len(self._tags)
        if pending >= self._flush_every:
            self._flush_locked()

    def _flush_locked(self) -> None:
        if not (self._params or self._metrics or self._tags or self._artifact_refs):
            return
        self._store.runs.log_batch(
            self.id,
            params=self._params or None,
            metrics=self._metrics,
            tags=self._tags or None,
            artifacts=self._artifact_refs or None,
        )
        self._params, self._metrics, self._tags, self._artifact_refs = {}, [], {}, {}


def _param_text(value: Any) -> str:
    """Params are stored as text; floats keep full precision (``repr``)."""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _finite(key: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"Metric {key!r} must be a number; got {value!r}.") from exc
    if not math.isfinite(number):
        raise InvalidInputError(f"Metric {key!r} must be finite; got {number}.")
    return number


def start_run(
    store: MetadataStore,
    project: str,
    name: str,
    *,
    kind: str = "train",
    dataset_id: str | None = None,
    artifacts: ArtifactStore | None = None,
    tags: Mapping[str, Any] | None = None,
    code_dir: Path | None = None,
) -> ActiveRun:
    """Start a tracked run of ``project``.

    ``code_dir`` (default: the current folder) is where the git commit and dirty flag are read;
    package versions are always recorded as ``package.<name>`` tags.
    """
    from loopml.tracking._environment import environment_tags

    all_tags = environment_tags(code_dir or Path.cwd())
    all_tags.update({k: str(v) for k, v in (tags or {}).items()})
    run = store.runs.create(project, name, kind, dataset_id=dataset_id, tags=all_tags)
    return ActiveRun(store, run, artifacts=artifacts)
