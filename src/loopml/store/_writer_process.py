"""The body of the process that writes served predictions to the store (started by
:class:`~loopml.serve.BackgroundPredictionLogger`); it lives here so the child imports only the
store, not the serving stack.

The process asks for the idle scheduling class (Linux ``SCHED_IDLE``): it runs in the gaps the
serving process leaves, so logging takes no CPU from requests (under load, a writer at normal
priority doubles the 99th-percentile latency on a two-core machine). When the server leaves no
gaps, the logger's thread writes the batches itself (see ``BACKLOG_SHARE`` there).
"""

from __future__ import annotations

import contextlib
import dataclasses
import operator
import os
from multiprocessing.connection import Connection

from loopml.store._factory import open_store
from loopml.store._records import PredictionRecord

as_row = operator.attrgetter(*(f.name for f in dataclasses.fields(PredictionRecord)))
"""A :class:`PredictionRecord` as the plain tuple sent to the writer (field order); the writer
rebuilds it with ``PredictionRecord(*row)``."""


def write_batches(url: str, conn: Connection) -> None:
    """The writer process: open the store, answer ``ready``, then write each batch of record
    tuples received (answering ``ok`` or ``failed``) until ``None`` or the pipe closes."""
    if hasattr(os, "SCHED_IDLE"):
        with contextlib.suppress(OSError):  # not allowed here: normal priority, still correct
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    try:
        store = open_store(url)
    except Exception as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", None))
    while True:
        try:
            rows = conn.recv()
        except (EOFError, OSError):
            return
        if rows is None:
            return
        try:
            store.predictions.add([PredictionRecord(*row) for row in rows])
        except Exception as exc:
            conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        else:
            conn.send(("ok", None))
