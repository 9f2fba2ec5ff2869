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
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Sequence

from loopml.errors import InvalidInputError
from loopml.serve._interfaces import PredictionSink
from loopml.store._base import MetadataStore
from loopml.store._records import PredictionRecord

logger = logging.getLogger(__name__)

_DROP_WARNING_EVERY = 1000
"""After the first dropped record, warn again only every this many drops."""


class BackgroundPredictionLogger(PredictionSink):
    """A :class:`PredictionSink` writing to ``store.predictions`` from a background thread.

    Args:
        store: the metadata store to write to.
        batch_size: most records per ``store.predictions.add`` call.
        flush_interval: longest time (seconds) a record waits before its batch is written.
        max_queue: most records held in memory; beyond it new records are dropped.

    Raises:
        InvalidInputError: a size or interval is not positive.
    """

    def __init__(
        self,
        store: MetadataStore,
        *,
        batch_size: int = 500,
        flush_interval: float = 0.5,
        max_queue: int = 100_000,
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
        self._store = store
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
        while True:
            batch = self._next_batch()
            if not batch:
                return
            self._write(batch)

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
