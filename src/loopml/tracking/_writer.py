"""The per-process background writer that commits tracked params, metrics, tags and artifacts.

``ActiveRun.log_*`` append one small item to the run's in-memory buffer and return (a few
microseconds, no database work, no thread hand-off). One daemon thread per process commits every
run's buffer in one transaction per run (``RunStore.log_batch``): every
:data:`FLUSH_INTERVAL_SECONDS`, and as soon as a buffer holds :data:`BATCH_ITEMS` items.
``ActiveRun.flush()``, ``end()`` and leaving the ``with`` block commit what is left in the
calling thread (ending the run in the same transaction) and raise any error met. An ``atexit``
hook commits every buffer on interpreter exit, so a normal exit (including an uncaught exception)
loses nothing.

A run started by :func:`~loopml.tracking.start_run` is not written at once: its row is created
by its first commit, in the same transaction as what it logged (a short run costs one
transaction: start, params, metrics and end). The writer commits it within
:data:`FLUSH_INTERVAL_SECONDS` even if nothing is logged, so other processes see it by then; this
process sees it at once (:mod:`loopml.tracking._pending`).

Loss window: a hard kill (SIGKILL, OOM kill, power loss) loses what is still buffered: the items
logged in the last :data:`FLUSH_INTERVAL_SECONDS` (plus the duration of the commit in flight),
and never more than :data:`MAX_PENDING_ITEMS` items per run, because a run whose buffer reaches
that size commits in the logging thread itself (back-pressure, so memory stays bounded). On
SQLite (WAL, ``synchronous=NORMAL``) a power loss may also roll back the last committed
transactions; a process kill does not.

Thread-safe: any number of threads may log to any number of runs; each run's commits happen one
at a time and in logging order. After ``fork`` the child starts its own writer.
"""

from __future__ import annotations

import atexit
import os
import threading
from dataclasses import dataclass, field
from typing import Any

from loopml.errors import InvalidInputError, LoopmlError, StoreError
from loopml.store import MetadataStore, MetricPoint, Run
from loopml.store._records import RunStatus

FLUSH_INTERVAL_SECONDS = 0.5
"""How often the writer commits every buffer: the loss window on a hard kill."""
BATCH_ITEMS = 1_000
"""A buffer this full wakes the writer at once."""
MAX_PENDING_ITEMS = 50_000
"""A buffer this full is committed by the logging thread itself (bounded memory)."""

Item = tuple[str, Any, Any]  # ("param"|"tag"|"artifact", key, value) or ("metric", point, None)


@dataclass(eq=False)
class RunSink:
    """One run's buffer. ``lock`` guards the buffer; ``write_lock`` orders its commits.

    ``pending`` holds the run while its row is not yet in the store: the first commit creates it
    together with everything buffered (one transaction), then clears it.
    """

    store: MetadataStore
    run_id: str
    pending: Run | None = None
    buffer: list[Item] = field(default_factory=list)
    errors: list[LoopmlError] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    write_lock: threading.Lock = field(default_factory=threading.Lock)

    def commit(self, end_status: RunStatus | None = None) -> None:
        """Commit the buffer (creating the run first if it is pending, and ending it when
        ``end_status`` is given) in one transaction; an error is kept in :attr:`errors` after
        writing what could be written."""
        with self.write_lock:
            with self.lock:
                items, self.buffer = self.buffer, []
            if not items and end_status is None and self.pending is None:
                return
            error = _write(self, items, end_status)
            if error is not None:
                with self.lock:
                    self.errors.append(error)

    def raise_errors(self) -> None:
        """Raise (and forget) the first error met since the last call."""
        with self.lock:
            errors, self.errors = self.errors, []
        if errors:
            raise errors[0]


class BackgroundWriter:
    """The thread that commits registered buffers; see the module docstring for the contract."""

    def __init__(self, *, interval: float = FLUSH_INTERVAL_SECONDS) -> None:
        self._interval = interval
        self._sinks: set[RunSink] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False

    def add(self, sink: RunSink, item: Item) -> None:
        """Buffer ``item`` for ``sink``'s run.

        Raises:
            InvalidInputError: the writer was closed (the interpreter is exiting).
        """
        if self._closed:
            raise InvalidInputError(
                "The tracking writer is closed: the interpreter is shutting down.",
                hint="Log before the program exits.",
            )
        with sink.lock:
            sink.buffer.append(item)
            pending = len(sink.buffer)
        if pending == 1:
            self._register(sink)
        elif pending == BATCH_ITEMS:
            self._wake.set()
        elif pending >= MAX_PENDING_ITEMS:
            sink.commit()

    def watch(self, sink: RunSink) -> None:
        """Commit ``sink`` at the next interval even if nothing is logged (a pending run)."""
        self._register(sink)

    def forget(self, sink: RunSink) -> None:
        """Stop watching ``sink`` (its run ended)."""
        with self._lock:
            self._sinks.discard(sink)

    def commit_all(self) -> None:
        """Commit every registered buffer now (in the calling thread)."""
        with self._lock:
            sinks = list(self._sinks)
        for sink in sinks:
            sink.commit()

    def close(self) -> None:
        """Commit every buffer, then stop the thread (idempotent)."""
        with self._lock:
            self._closed = True
            thread = self._thread
        self._stop.set()
        self._wake.set()
        if thread is not None:
            thread.join()
        self.commit_all()

    def _register(self, sink: RunSink) -> None:
        with self._lock:
            self._sinks.add(sink)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="loopml-tracking-writer", daemon=True
                )
                self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._interval)
            self._wake.clear()
            self.commit_all()


def _write(sink: RunSink, items: list[Item], end_status: RunStatus | None) -> LoopmlError | None:
    """Commit ``items``; returns the error met (after writing what it could)."""
    params: dict[str, Any] = {}
    metrics: list[MetricPoint] = []
    tags: dict[str, Any] = {}
    artifacts: dict[str, str] = {}
    for kind, key, value in items:
        if kind == "metric":
            metrics.append(key)
        else:
            {"param": params, "tag": tags, "artifact": artifacts}[kind][key] = value

    def log(kept: dict[str, Any], status: RunStatus | None) -> None:
        sink.store.runs.log_batch(
            sink.run_id,
            params=kept or None,
            metrics=metrics,
            tags=tags or None,
            artifacts=artifacts or None,
            end_status=status,
        )

    try:
        if sink.pending is not None:
            _create(sink, sink.pending, params, metrics, tags, artifacts, end_status)
            sink.pending = None
        else:
            log(params, end_status)
    except InvalidInputError as error:
        details = error.details if isinstance(error.details, dict) else {}
        conflicts = set(details.get("conflicts", ()))
        if not conflicts:
            return error
        # Keep the batch: drop only the params that clash with values logged earlier.
        try:
            log({k: v for k, v in params.items() if k not in conflicts}, end_status and "failed")
        except LoopmlError as retry_error:
            return retry_error
        return error
    except LoopmlError as error:
        return error
    except Exception as error:  # the writer thread must survive to serve other runs
        return StoreError(
            f"Writing to run {sink.run_id!r} failed: {type(error).__name__}: {error}.",
            hint="This is likely a bug in loopml; please report it.",
        )
    return None


def _create(
    sink: RunSink,
    run: Run,
    params: dict[str, Any],
    metrics: list[MetricPoint],
    tags: dict[str, Any],
    artifacts: dict[str, str],
    end_status: RunStatus | None,
) -> None:
    """Create the pending ``run`` with everything buffered so far (a fresh run: no conflicts)."""
    sink.store.runs.create(
        run.project,
        run.name,
        run.kind,
        run_id=run.id,
        start_time=run.start_time,
        parent_id=run.parent_id,
        dataset_id=run.dataset_id,
        tags={**run.tags, **{k: str(v) for k, v in tags.items()}},
        params=params or None,
        metrics=metrics,
        artifacts=artifacts or None,
        end_status=end_status,
    )


_default: BackgroundWriter | None = None
_default_lock = threading.Lock()


def default_writer() -> BackgroundWriter:
    """This process's writer (created on first use)."""
    global _default
    if _default is not None:
        return _default
    with _default_lock:
        if _default is None:
            _default = BackgroundWriter()
        return _default


def _flush_at_exit() -> None:
    if _default is not None:
        _default.close()


def _after_fork_in_child() -> None:
    global _default, _default_lock
    _default, _default_lock = None, threading.Lock()


atexit.register(_flush_at_exit)
os.register_at_fork(after_in_child=_after_fork_in_child)
