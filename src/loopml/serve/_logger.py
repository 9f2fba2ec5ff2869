"""Logging served predictions to the metadata store without slowing requests down.

Requests put records on a bounded in-memory queue and return at once; a daemon thread writes them
to ``store.predictions`` in batches.

Loss window: records accepted by :meth:`BackgroundPredictionLogger.submit` live only in memory
until their batch is written: once ``batch_size`` records are waiting, or ``flush_interval``
seconds after the writer picks up the first of them (plus the time of a write in progress).
:meth:`~BackgroundPredictionLogger.close` (called on graceful shutdown) writes every one of them,
so a clean stop loses nothing; a crash loses at most what is queued. When the store falls behind
and the queue holds ``max_queue`` records, new records are dropped, counted in
:attr:`~BackgroundPredictionLogger.dropped`, and a warning is logged, rather than making requests
wait. A batch the store refuses (after its own retries) is logged and counted in
:attr:`~BackgroundPredictionLogger.failed`.

Where the store can be opened from another process (a SQLite file, PostgreSQL), the batches are
written by a child process with its own connection (``writer="process"``, the default where
possible): inserting rows holds the GIL for the parameter binding of every row, and the serving
threads would wait for it at each hand-over. The thread then only sends each batch (plain tuples)
down a pipe and waits for the child's answer, so the loss window and :meth:`flush` are unchanged.
If the child cannot start or dies, the thread writes the batches itself and nothing is lost.
The child runs at idle priority, in the gaps requests leave; when the server is so busy that
records back up (more than ``max_queue / BACKLOG_SHARE`` waiting), the thread writes batches
itself at normal priority until the backlog is gone, so logging keeps pace instead of dropping.
Batches that :meth:`flush` or :meth:`close` wait for are written by the thread too, so a
shutdown never waits for an idle-priority process on a machine other work keeps busy.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import threading
from collections import deque
from collections.abc import Sequence
from typing import Any, Literal

from loopml.errors import InvalidInputError, StoreError
from loopml.serve._interfaces import PredictionSink
from loopml.store._base import MetadataStore
from loopml.store._records import PredictionRecord
from loopml.store._writer_process import CHUNK_ROWS, as_row, write_batches

Writer = Literal["auto", "thread", "process"]

logger = logging.getLogger(__name__)

_DROP_WARNING_EVERY = 1000
"""After the first dropped record, warn again only every this many drops."""
BACKLOG_SHARE = 10
"""With more than ``max_queue / BACKLOG_SHARE`` records waiting, batches are written by the
logger's thread rather than by the idle-priority writer process."""


class BackgroundPredictionLogger(PredictionSink):
    """A :class:`PredictionSink` writing to ``store.predictions`` from a background thread.

    Args:
        store: the metadata store to write to.
        batch_size: most records per ``store.predictions.add`` call.
        flush_interval: longest time (seconds) a record waits before its batch is written.
        max_queue: most records held in memory; beyond it new records are dropped.
        writer: ``process`` writes through a child process (the store must have a URL another
            process can open), ``thread`` in this process, ``auto`` (default) a process where
            the store allows it.

    Raises:
        InvalidInputError: a size or interval is not positive, or ``writer`` is unknown or
            ``process`` for a store only this process can open.
    """

    def __init__(
        self,
        store: MetadataStore,
        *,
        batch_size: int = 500,
        flush_interval: float = 0.5,
        max_queue: int = 100_000,
        writer: Writer = "auto",
    ) -> None:
        for name, value in (
            ("batch_size", batch_size),
            ("flush_interval", flush_interval),
            ("max_queue", max_queue),
        ):
            if value <= 0:
                raise InvalidInputError(
                    f"The {name!r} parameter of BackgroundPredictionLogger must be positive. "
                    f"Got {value!r} instead."
                )
        url = shareable_url(store)
        if writer not in ("auto", "thread", "process"):
            raise InvalidInputError(
                f"The 'writer' parameter must be auto, thread or process. Got {writer!r}.",
                hint="Use writer='auto' unless you have a reason not to.",
            )
        if writer == "process" and url is None:
            raise InvalidInputError(
                "A prediction writer process needs a store another process can open (a SQLite "
                "file or a database server); this store is only reachable from this process.",
                hint="Use writer='thread', or a file or server store.",
            )
        self._store = store
        self._url = url if writer != "thread" else None
        self._child: _WriterProcess | None = None
        self._batch_size = batch_size
        self._flush_interval = flush_interval
        self._max_queue = max_queue
        self._pending: deque[PredictionRecord] = deque()
        self._changed = threading.Condition()
        self._stopping = False
        self._flushes = 0  # callers of flush() waiting: write partial batches at once
        self._in_flight = 0
        self._written = self._dropped = self._failed = 0
        self._thread = threading.Thread(
            target=self._run, name="loopml-prediction-logger", daemon=True
        )
        self._thread.start()

    @property
    def written(self) -> int:
        """Records written to the store so far."""
        return self._written

    @property
    def dropped(self) -> int:
        """Records refused because the queue was full or the logger closed."""
        return self._dropped

    @property
    def failed(self) -> int:
        """Records in batches the store refused."""
        return self._failed

    def submit(self, records: Sequence[PredictionRecord]) -> None:
        """Queue ``records`` for writing; never blocks on the store (drops, counted, when full)."""
        with self._changed:
            if self._stopping:
                accepted, reason = 0, "the prediction logger is closed"
            else:
                accepted = min(len(records), self._max_queue - len(self._pending))
                reason = "the prediction log queue is full"
            was_idle = not self._pending
            self._pending.extend(records[:accepted])
            if accepted and (was_idle or len(self._pending) >= self._batch_size):
                self._changed.notify_all()
            dropped = len(records) - accepted
            before = self._dropped
            self._dropped += dropped
        if dropped and (
            before == 0 or before // _DROP_WARNING_EVERY < self._dropped // _DROP_WARNING_EVERY
        ):
            logger.warning(
                "Dropped %d prediction record(s) because %s (%d dropped so far).",
                dropped,
                reason,
                self._dropped,
            )

    def flush(self) -> None:
        """Write every record queued so far now, and wait until the store has taken them."""
        with self._changed:
            self._flushes += 1
            self._changed.notify_all()
            try:
                self._changed.wait_for(
                    lambda: not (self._pending or self._in_flight) or not self._thread.is_alive()
                )
            finally:
                self._flushes -= 1

    def close(self) -> None:
        """Write every queued record, then stop the thread. Idempotent."""
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        self._thread.join()

    def _run(self) -> None:
        try:
            while True:
                batch = self._next_batch()
                if not batch:
                    return
                self._write(batch)
        finally:
            if self._child is not None:
                self._child.close()

    def _next_batch(self) -> list[PredictionRecord]:
        """Up to ``batch_size`` records, waiting at most ``flush_interval`` after the first.

        Returns an empty batch only when closing with nothing left to write.
        """
        with self._changed:
            self._changed.wait_for(lambda: self._pending or self._stopping)
            self._changed.wait_for(
                lambda: (
                    len(self._pending) >= self._batch_size or self._stopping or self._flushes > 0
                ),
                timeout=self._flush_interval,
            )
            size = min(self._batch_size, len(self._pending))
            batch = [self._pending.popleft() for _ in range(size)]
            self._in_flight = size
            return batch

    def _write(self, batch: list[PredictionRecord]) -> None:
        try:
            backlog = len(self._pending) > self._max_queue // BACKLOG_SHARE
            awaited = self._stopping or self._flushes > 0  # a caller waits: normal priority
            if backlog or awaited or not self._write_in_child(batch):
                self._store.predictions.add(batch)
        except Exception:
            self._failed += len(batch)
            logger.exception("Could not write %d prediction record(s) to the store", len(batch))
        else:
            self._written += len(batch)
        finally:
            with self._changed:
                self._in_flight = 0
                self._changed.notify_all()

    def _write_in_child(self, batch: list[PredictionRecord]) -> bool:
        """Write ``batch`` through the child process (started on first use); False when there
        is none (a thread writer, or the child could not start or died: this thread writes from
        then on). Raises what the child's store raised."""
        if self._url is None:
            return False
        if self._child is None:
            try:
                self._child = _WriterProcess(self._url)
            except Exception as exc:
                logger.warning("Writing predictions in this process: %s", exc)
                self._url = None
                return False
        try:
            self._child.write(batch)
        except _WriterGone as exc:
            logger.warning("Writing predictions in this process: %s", exc)
            self._child.close()
            self._child, self._url = None, None
            return False
        return True


def shareable_url(store: MetadataStore) -> str | None:
    """The URL of ``store`` when another process can open it (a SQLite file, a database
    server); None for an in-memory database or a store without a URL."""
    url = getattr(store, "url", None)
    if not isinstance(url, str) or "://" not in url:
        return None
    scheme, _, rest = url.partition("://")
    if scheme.split("+")[0] == "sqlite":
        path = rest[1:] if rest.startswith("/") else rest
        if not path or path.startswith(":memory:") or "mode=memory" in path:
            return None
    return url


class _WriterGone(Exception):
    """The writer process cannot be reached (it exited or its pipe broke)."""


class _WriterProcess:
    """A child process with its own connection to the store at ``url``, writing the batches it
    is sent, one at a time, answering each (see ``loopml.store._writer_process``).

    Raises:
        StoreError: the child could not open the store.
        _WriterGone: the child exited before answering.
    """

    def __init__(self, url: str) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child_end = context.Pipe()
        # Not a daemon (a server worker may itself be one, and daemons cannot have children):
        # the child exits when this end of the pipe closes, whatever becomes of this process.
        self._process = context.Process(
            target=write_batches,
            args=(url, child_end),
            name="loopml-prediction-writer",
            daemon=False,
        )
        self._process.start()
        child_end.close()
        status, detail = self._answer()
        if status != "ready":
            self.close()
            raise StoreError(f"The prediction writer process could not open the store: {detail}")

    def write(self, batch: list[PredictionRecord]) -> None:
        """Write ``batch`` and wait until the child has stored it.

        Raises:
            StoreError: the store refused the batch.
            _WriterGone: the child is gone (nothing of the batch is known to be stored).
        """
        rows = [as_row(r) for r in batch]
        try:
            for start in range(0, len(rows), CHUNK_ROWS):
                end = start + CHUNK_ROWS
                self._conn.send((end >= len(rows), rows[start:end]))
        except (OSError, ValueError) as exc:
            raise _WriterGone(f"the prediction writer process is gone ({exc})") from exc
        status, detail = self._answer()
        if status != "ok":
            raise StoreError(f"The store refused {len(batch)} prediction record(s): {detail}")

    def _answer(self) -> tuple[str, Any]:
        try:
            status, detail = self._conn.recv()
        except (EOFError, OSError) as exc:
            code = self._process.exitcode
            raise _WriterGone(f"the prediction writer process exited (code {code})") from exc
        return str(status), detail

    def close(self) -> None:
        """Stop the child (after the batch it is writing) and wait for it. Idempotent."""
        with contextlib.suppress(OSError, ValueError):  # already closed, or the child is gone
            self._conn.send(None)
        self._conn.close()
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout=5)
