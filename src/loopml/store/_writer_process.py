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
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from typing import Any

from loopml.store._factory import open_store
from loopml.store._records import PredictionRecord

_FIELDS = [f.name for f in dataclasses.fields(PredictionRecord)]
_TIME = _FIELDS.index("time")
_values = operator.attrgetter(*_FIELDS)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

CHUNK_ROWS = 64
"""Rows per message to the writer: pickling holds the GIL for the whole message, so a batch
goes as several short messages and requests get the GIL back between them."""


def as_row(record: PredictionRecord) -> tuple[Any, ...]:
    """``record`` as the plain tuple sent to the writer (field order), its time as integer
    microseconds since the epoch (a third of a datetime's pickling cost); see :func:`from_row`."""
    values = _values(record)
    time = values[_TIME]
    utc = time if time.tzinfo is not None else time.replace(tzinfo=UTC)
    return (*values[:_TIME], (utc - _EPOCH) // _MICROSECOND, *values[_TIME + 1 :])


def from_row(row: tuple[Any, ...]) -> PredictionRecord:
    """The record :func:`as_row` made ``row`` of (its time in UTC)."""
    values = list(row)
    values[_TIME] = _EPOCH + timedelta(microseconds=values[_TIME])
    return PredictionRecord(*values)


def write_batches(url: str, conn: Connection) -> None:
    """The writer process: open the store, answer ``ready``, then write each batch (sent as
    ``(last, rows)`` chunks of :func:`as_row` tuples, stored in one transaction once ``last``
    arrives, then answered ``ok`` or ``failed``) until ``None`` or the pipe closes."""
    if hasattr(os, "SCHED_IDLE"):
        with contextlib.suppress(OSError):  # not allowed here: normal priority, still correct
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    try:
        store = open_store(url)
    except Exception as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", None))
    rows: list[tuple[Any, ...]] = []
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        last, chunk = message
        rows.extend(chunk)
        if not last:
            continue
        try:
            store.predictions.add([from_row(row) for row in rows])
        except Exception as exc:
            conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        else:
            conn.send(("ok", None))
        rows = []
