"""The body of the process that writes served predictions to the store (started by
:class:`~loopml.serve.BackgroundPredictionLogger`); it lives here so the child imports only the
store, not the serving stack."""

from __future__ import annotations

from multiprocessing.connection import Connection

from loopml.store._factory import open_store
from loopml.store._records import PredictionRecord


def write_batches(url: str, conn: Connection) -> None:
    """The writer process: open the store, answer ``ready``, then write each batch of record
    tuples received (answering ``ok`` or ``failed``) until ``None`` or the pipe closes."""
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
