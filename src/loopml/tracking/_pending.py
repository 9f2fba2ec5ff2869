"""Read-your-writes for runs whose rows are still buffered in this process.

A tracked run's row is created by its first commit, together with what was logged (one
transaction instead of two). Until then the run exists only in this process's buffer; the
:class:`PendingRuns` of a store is installed as the store's write-behind barrier
(:meth:`RunStore.set_barrier`), so any store call in this process that names such a run (or lists
or searches runs) first commits it. Other processes see a run once the background writer has
committed it: within :data:`~loopml.tracking._writer.FLUSH_INTERVAL_SECONDS`.
"""

from __future__ import annotations

import threading
import weakref

from loopml.store import MetadataStore, RunStore
from loopml.tracking._writer import RunSink

_PRUNE_AT = 256
"""Registered runs beyond which the already-created ones are dropped (bounds memory when runs
are started and never ended)."""


class PendingRuns:
    """The buffered-but-not-created runs of one store; callable as the store's barrier.

    Thread-safe. A commit error stays in the run's sink and is raised by its ``flush``/``end``.
    """

    def __init__(self) -> None:
        self._sinks: dict[str, RunSink] = {}
        self._lock = threading.Lock()

    def add(self, sink: RunSink) -> None:
        with self._lock:
            if len(self._sinks) >= _PRUNE_AT:  # runs never ended: forget those created since
                self._sinks = {k: s for k, s in self._sinks.items() if s.pending is not None}
            self._sinks[sink.run_id] = sink

    def discard(self, sink: RunSink) -> None:
        with self._lock:
            if self._sinks.get(sink.run_id) is sink:
                del self._sinks[sink.run_id]

    def __call__(self, run_id: str | None) -> None:
        """Create the pending runs whose id starts with ``run_id`` (every one for None)."""
        if not self._sinks:
            return
        with self._lock:
            targets = [
                sink
                for key, sink in self._sinks.items()
                if run_id is None or key.startswith(run_id)
            ]
        for sink in targets:
            if sink.pending is not None:
                sink.commit()
            if sink.pending is None:
                self.discard(sink)


_by_store: weakref.WeakKeyDictionary[RunStore, PendingRuns] = weakref.WeakKeyDictionary()
_by_store_lock = threading.Lock()


def pending_runs(store: MetadataStore) -> PendingRuns:
    """The :class:`PendingRuns` of ``store`` (installed as its barrier on first use)."""
    with _by_store_lock:
        pending = _by_store.get(store.runs)
        if pending is None:
            pending = _by_store[store.runs] = PendingRuns()
            store.runs.set_barrier(pending)
        return pending
