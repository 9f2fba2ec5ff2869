"""Creating a run with its first batch in one transaction: the tracking hot path.

A fresh run has nothing to conflict with, so everything is a plain multi-row insert through
:class:`~loopml.store._sql._bulk.BulkInsert`; only the run row itself uses ``ON CONFLICT DO
NOTHING`` to detect a taken id without aborting the transaction.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from loopml.errors import AlreadyExistsError, NotFoundError
from loopml.store._records import Run
from loopml.store._sql._bulk import BulkInsert
from loopml.store._sql._tables import (
    run_artifacts,
    run_latest_metrics,
    run_metrics,
    run_params,
    run_tags,
    runs,
)


def run_exists(conn: Connection, run_id: str) -> bool:
    return conn.execute(sa.select(runs.c.id).where(runs.c.id == run_id)).first() is not None


def insert_run(
    conn: Connection, run: Run, metric_rows: list[dict[str, Any]], latest: list[dict[str, Any]]
) -> Run:
    """Insert ``run`` (a fresh id) with its tags, params, artifacts and metric rows (``latest``:
    each key's latest row); see :meth:`RunStore.create`.

    Raises:
        NotFoundError: the parent run does not exist.
        AlreadyExistsError: the id is taken.
    """
    if run.parent_id is not None and not run_exists(conn, run.parent_id):
        raise NotFoundError(
            f"Parent run {run.parent_id!r} does not exist.",
            hint="Create the parent run first or pass its full id.",
        )
    inserted = _INSERT_RUN.execute(
        conn,
        [
            {
                "id": run.id,
                "project": run.project,
                "name": run.name,
                "kind": run.kind,
                "status": run.status,
                "start_time": run.start_time,
                "end_time": run.end_time,
                "parent_id": run.parent_id,
                "dataset_id": run.dataset_id,
            }
        ],
    )
    if inserted.rowcount == 0:
        raise AlreadyExistsError(
            f"Run id {run.id!r} is already taken.", hint="Pass another run_id or leave it unset."
        )
    # A fresh run: plain inserts, no conflicts to resolve.
    for insert, key, value, items in (
        (_INSERT_TAGS, "key", "value", run.tags),
        (_INSERT_PARAMS, "key", "value", run.params),
        (_INSERT_ARTIFACTS, "name", "digest", run.artifacts),
    ):
        if items:
            insert.execute(conn, [{"run_id": run.id, key: k, value: v} for k, v in items.items()])
    if metric_rows:
        _INSERT_METRICS.execute(conn, metric_rows)
        _INSERT_LATEST.execute(conn, latest)
    return run


_RUN_COLUMNS = (
    "id",
    "project",
    "name",
    "kind",
    "status",
    "start_time",
    "end_time",
    "parent_id",
    "dataset_id",
)
_POINT_COLUMNS = ("run_id", "key", "value", "step", "timestamp")
_INSERT_RUN = BulkInsert(runs, _RUN_COLUMNS, conflict=("id",))
_INSERT_TAGS = BulkInsert(run_tags, ("run_id", "key", "value"))
_INSERT_PARAMS = BulkInsert(run_params, ("run_id", "key", "value"))
_INSERT_ARTIFACTS = BulkInsert(run_artifacts, ("run_id", "name", "digest"))
_INSERT_METRICS = BulkInsert(run_metrics, _POINT_COLUMNS)
_INSERT_LATEST = BulkInsert(run_latest_metrics, _POINT_COLUMNS)
