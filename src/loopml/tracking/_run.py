"""Tracked runs: a context manager whose log calls are committed in batches in the background."""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any
from uuid import uuid4

from loopml.errors import InvalidInputError, LoopmlError
from loopml.store import ArtifactStore, MetadataStore, MetricPoint, Run
from loopml.store._records import utcnow
from loopml.tracking._pending import pending_runs
from loopml.tracking._writer import BackgroundWriter, Item, RunSink, default_writer


class ActiveRun:
    """A run being recorded. Use as a context manager (or call :meth:`end`).

    With ``pending=True`` (how :func:`start_run` and :meth:`child` start runs) ``run`` is not yet
    in the store: its row is written by the first commit, in the same transaction as what was
    logged, so a short run costs one transaction. Store calls in this process that name the run
    create it first (:mod:`loopml.tracking._pending`); other processes see it within the writer's
    interval. ``log_*`` calls append to the run's buffer and return in microseconds; the per-process
    background writer (:mod:`loopml.tracking._writer`) commits buffers in batches, at least every
    half second. :meth:`flush` commits everything logged so far. Leaving the ``with`` block
    normally ends the run ``finished``; an exception ends it ``failed`` (and is re-raised); both
    commit what is buffered and the end in one transaction, so nothing logged is lost on either
    path. Thread-safe.
    """

    def __init__(
        self,
        store: MetadataStore,
        run: Run,
        *,
        artifacts: ArtifactStore | None = None,
        writer: BackgroundWriter | None = None,
        pending: bool = False,
    ) -> None:
        self._store = store
        self._artifacts = artifacts
        self._run = run
        self._writer = writer
        self._sink = RunSink(store, run.id, pending=run if pending else None)
        self._lock = threading.Lock()
        self._params: dict[str, str] = dict(run.params)
        self._ended = False
        if pending:
            pending_runs(store).add(self._sink)
            self._current_writer().watch(self._sink)

    @property
    def id(self) -> str:
        return self._run.id

    @property
    def project(self) -> str:
        return self._run.project

    @property
    def store(self) -> MetadataStore:
        return self._store

    # -- logging -------------------------------------------------------------------------------
    def log_param(self, key: str, value: Any) -> None:
        self.log_params({key: value})

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Record params (stored as text; fixed once logged).

        Raises:
            InvalidInputError: a param was already logged with another value, or the run ended.
        """
        texts = {str(k): _param_text(v) for k, v in params.items()}
        with self._lock:
            clashes = sorted(k for k, v in texts.items() if self._params.get(k, v) != v)
            if clashes:
                key = clashes[0]
                raise InvalidInputError(
                    f"Param {key!r} of run {self.id!r} was already logged as "
                    f"{self._params[key]!r}; it cannot be re-logged as {texts[key]!r}.",
                    hint="Params are fixed once logged; log a metric or tag instead.",
                    details={"conflicts": clashes},
                )
            fresh = {k: v for k, v in texts.items() if k not in self._params}
            self._params.update(fresh)
        for key, text in fresh.items():
            self._submit(("param", key, text))

    def log_metric(self, key: str, value: float, step: int = 0) -> None:
        """Record ``value`` of metric ``key`` at ``step``.

        Raises:
            InvalidInputError: ``value`` is not a finite number, or the run ended.
        """
        self._submit(("metric", MetricPoint(key=key, value=_finite(key, value), step=step), None))

    def log_metrics(self, metrics: Mapping[str, float], step: int = 0) -> None:
        points = [MetricPoint(key=k, value=_finite(k, v), step=step) for k, v in metrics.items()]
        for point in points:
            self._submit(("metric", point, None))

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        for key, value in tags.items():
            self._submit(("tag", str(key), str(value)))

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
        self._submit(("artifact", name, digest))
        return digest

    # -- lifecycle -----------------------------------------------------------------------------
    def child(self, name: str, kind: str, **tags: Any) -> ActiveRun:
        """Start a nested run (for example one per candidate or tuning trial)."""
        run = _new_run(
            self.project,
            name,
            kind,
            parent_id=self.id,
            dataset_id=self._run.dataset_id,
            tags={k: str(v) for k, v in tags.items()},
        )
        return ActiveRun(
            self._store, run, artifacts=self._artifacts, writer=self._writer, pending=True
        )

    def flush(self) -> None:
        """Commit everything logged so far (in the calling thread) before returning.

        Raises:
            LoopmlError: the first error met committing this run's items since the last flush
                (for example InvalidInputError for a param another writer logged with another
                value, or StoreError); the other items were still written.
        """
        self._sink.commit()
        self._sink.raise_errors()

    def end(self, status: str = "finished") -> Run:
        """Commit what is buffered and close the run in one transaction; returns the stored run
        (later calls return it unchanged).

        A commit error ends the run ``failed`` and is then raised.
        """
        self._finish(status)
        return self._store.runs.get(self.id)

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._finish("failed" if exc_type is not None else "finished")

    # -- internals -----------------------------------------------------------------------------
    def _finish(self, status: str) -> None:
        with self._lock:
            if self._ended:
                return
            self._ended = True
        self._current_writer().forget(self._sink)
        self._sink.commit(end_status="failed" if status == "failed" else "finished")
        pending_runs(self._store).discard(self._sink)
        try:
            self._sink.raise_errors()
        except LoopmlError:
            if self._sink.pending is None and self._store.runs.get(self.id).status == "running":
                self._store.runs.end(self.id, "failed")
            raise

    def _current_writer(self) -> BackgroundWriter:
        # Looked up per call (not cached) so that a forked child uses its own writer.
        return self._writer or default_writer()

    def _submit(self, item: Item) -> None:
        if self._ended:
            raise InvalidInputError(
                f"Run {self.id!r} has ended; nothing more can be logged to it.",
                hint="Log inside the `with start_run(...)` block, or start a new run.",
            )
        self._current_writer().add(self._sink, item)


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
    parent_id: str | None = None,
) -> ActiveRun:
    """Start a tracked run of ``project`` (nested under ``parent_id`` when given)::

        with start_run(store, "churn", "baseline") as run:
            run.log_params({"family": "lightgbm"})
            run.log_metric("roc_auc", 0.91)

    ``code_dir`` (default: the current folder) is where the git commit and dirty flag are read;
    package versions are always recorded as ``package.<name>`` tags.

    Raises:
        NotFoundError: ``parent_id`` names no run.
    """
    from loopml.tracking._environment import environment_tags

    all_tags = environment_tags(code_dir or Path.cwd())
    all_tags.update({k: str(v) for k, v in (tags or {}).items()})
    if parent_id is not None:
        parent_id = store.runs.get(parent_id).id  # raises NotFoundError now, not at the commit
    run = _new_run(project, name, kind, parent_id=parent_id, dataset_id=dataset_id, tags=all_tags)
    return ActiveRun(store, run, artifacts=artifacts, pending=True)


def _new_run(
    project: str,
    name: str,
    kind: str,
    *,
    parent_id: str | None,
    dataset_id: str | None,
    tags: dict[str, str],
) -> Run:
    """A run not yet in the store, with a client-side id (UUID hex, like the store's)."""
    return Run(
        id=uuid4().hex,
        project=project,
        name=name,
        kind=kind,
        status="running",
        start_time=utcnow(),
        parent_id=parent_id,
        dataset_id=dataset_id,
        tags=tags,
    )
