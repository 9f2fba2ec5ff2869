"""Runs in SQL: creation, lookup and listing (logging is in :mod:`._run_logging`)."""

from __future__ import annotations

import builtins
import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import uuid4

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from loopml.errors import InvalidInputError, NotFoundError
from loopml.store._base import RunStore
from loopml.store._records import MetricPoint, Run, RunStatus, utcnow
from loopml.store._run_filter import parse_order_by, parse_run_filter
from loopml.store._sql._common import IN_CHUNK, chunks, preview, to_utc
from loopml.store._sql._database import Database
from loopml.store._sql._run_create import insert_run, run_exists
from loopml.store._sql._run_logging import latest_rows, log_batch, metric_rows, require_run
from loopml.store._sql._run_search import search_ids
from loopml.store._sql._tables import (
    run_artifacts,
    run_latest_metrics,
    run_metrics,
    run_params,
    run_tags,
    runs,
)

MIN_PREFIX = 6
_END_STATUSES = ("finished", "failed")


class SqlRunStore(RunStore):
    """:class:`RunStore` over ``runs`` and its child tables."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def create(
        self,
        project: str,
        name: str,
        kind: str,
        *,
        parent_id: str | None = None,
        dataset_id: str | None = None,
        tags: dict[str, str] | None = None,
        run_id: str | None = None,
        start_time: datetime | None = None,
        params: dict[str, Any] | None = None,
        metrics: Sequence[MetricPoint] = (),
        artifacts: dict[str, str] | None = None,
        end_status: RunStatus | None = None,
    ) -> Run:
        if run_id is not None and not 0 < len(run_id) <= 64:
            raise InvalidInputError(
                f"Run id {run_id!r} must have 1 to 64 characters.",
                hint="Leave run_id unset to get a fresh UUID.",
            )
        if end_status is not None:
            _check_end_status(end_status)
        if parent_id is not None:
            self._pass_barrier(parent_id)
        now = utcnow()
        new_id = run_id or uuid4().hex
        rows = metric_rows(new_id, metrics)
        latest = latest_rows(rows)
        run = Run(
            id=new_id,
            project=project,
            name=name,
            kind=kind,
            status=end_status or "running",
            start_time=to_utc(start_time) if start_time is not None else now,
            end_time=now if end_status is not None else None,
            parent_id=parent_id,
            dataset_id=dataset_id,
            params={str(k): str(v) for k, v in (params or {}).items()},
            metrics={k: _value(row["value"]) for k, row in latest.items()},
            tags={str(k): str(v) for k, v in (tags or {}).items()},
            artifacts={str(k): str(v) for k, v in (artifacts or {}).items()},
        )
        return self._db.write(lambda conn: insert_run(conn, run, rows, list(latest.values())))

    def log_batch(
        self,
        run_id: str,
        *,
        params: dict[str, Any] | None = None,
        metrics: Sequence[MetricPoint] = (),
        tags: dict[str, Any] | None = None,
        artifacts: dict[str, str] | None = None,
        end_status: RunStatus | None = None,
    ) -> None:
        self._pass_barrier(run_id)
        if end_status is not None:
            _check_end_status(end_status)
        elif not (params or metrics or tags or artifacts):
            self._db.read(lambda conn: require_run(conn, run_id))
            return

        def work(conn: Connection) -> None:
            log_batch(conn, run_id, params=params, metrics=metrics, tags=tags, artifacts=artifacts)
            if end_status is not None:
                conn.execute(
                    sa.update(runs)
                    .where(runs.c.id == run_id)
                    .values(status=end_status, end_time=utcnow())
                )

        self._db.write(work)

    def end(self, run_id: str, status: RunStatus = "finished") -> Run:
        _check_end_status(status)
        self._pass_barrier(run_id)

        def work(conn: Connection) -> Run:
            require_run(conn, run_id)
            conn.execute(
                sa.update(runs).where(runs.c.id == run_id).values(status=status, end_time=utcnow())
            )
            return _assemble(conn, runs.c.id == run_id)[0]

        return self._db.write(work)

    def get(self, run_id: str) -> Run:
        self._pass_barrier(run_id)
        return self._db.read(lambda conn: _get(conn, run_id))

    def list(
        self,
        project: str,
        *,
        kind: str | None = None,
        parent_id: str | None = None,
        dataset_id: str | None = None,
        limit: int | None = None,
    ) -> builtins.list[Run]:
        self._pass_barrier(None)
        conditions = [runs.c.project == project]
        for column, value in ((runs.c.kind, kind), (runs.c.parent_id, parent_id)):
            if value is not None:
                conditions.append(column == value)
        if dataset_id is not None:
            conditions.append(runs.c.dataset_id == dataset_id)
        return self._db.read(lambda conn: _assemble(conn, sa.and_(*conditions), limit=limit))

    def metric_history(self, run_id: str, key: str) -> builtins.list[MetricPoint]:
        self._pass_barrier(run_id)

        def work(conn: Connection) -> list[MetricPoint]:
            require_run(conn, run_id)
            rows = conn.execute(
                sa.select(run_metrics)
                .where(run_metrics.c.run_id == run_id, run_metrics.c.key == key)
                .order_by(run_metrics.c.step, run_metrics.c.timestamp, run_metrics.c.id)
            )
            return [MetricPoint(r.key, _value(r.value), r.step, r.timestamp) for r in rows]

        return self._db.read(work)

    def search(
        self,
        project: str,
        filter: str | None = None,
        *,
        order_by: builtins.list[str] | None = None,
        limit: int | None = None,
    ) -> builtins.list[Run]:
        if limit is not None and limit < 1:
            raise InvalidInputError(
                f"The search limit must be a positive number; got {limit}.",
                hint="Pass limit=20, or leave it unset for every match.",
            )
        tree, order = parse_run_filter(filter), parse_order_by(order_by)
        self._pass_barrier(None)

        def work(conn: Connection) -> list[Run]:
            ids = search_ids(conn, project, tree, order, limit)
            found: dict[str, Run] = {}
            for part in chunks(ids):
                found.update((r.id, r) for r in _assemble(conn, runs.c.id.in_(part)))
            return [found[run_id] for run_id in ids]

        return self._db.read(work)


def _check_end_status(status: str) -> None:
    if status not in _END_STATUSES:
        raise InvalidInputError(
            f"A run ends as 'finished' or 'failed', not {status!r}.",
            hint="Pass status='finished' or status='failed'.",
        )


def _get(conn: Connection, run_id: str) -> Run:
    if run_exists(conn, run_id):
        return _assemble(conn, runs.c.id == run_id)[0]
    if len(run_id) >= MIN_PREFIX:
        matches = (
            conn.execute(
                sa.select(runs.c.id).where(runs.c.id.startswith(run_id, autoescape=True)).limit(2)
            )
            .scalars()
            .all()
        )
        if len(matches) == 1:
            return _assemble(conn, runs.c.id == matches[0])[0]
        if matches:
            raise NotFoundError(
                f"Run id prefix {run_id!r} is ambiguous: it matches {preview(matches)} and more.",
                hint="Pass more characters of the run id.",
            )
    recent = (
        conn.execute(sa.select(runs.c.id).order_by(runs.c.start_time.desc()).limit(5))
        .scalars()
        .all()
    )
    short = f" (a prefix needs {MIN_PREFIX}+ characters)" if len(run_id) < MIN_PREFIX else ""
    raise NotFoundError(
        f"No run has the id {run_id!r}{short}; the newest runs are {preview(recent)}.",
        hint="List runs with `loopml runs` and pass an id or a unique prefix of one.",
    )


def _assemble(
    conn: Connection, condition: sa.ColumnElement[bool], *, limit: int | None = None
) -> list[Run]:
    """Runs matching ``condition``, newest first, with params, latest metrics, tags, artifacts."""
    query = sa.select(runs).where(condition).order_by(runs.c.start_time.desc(), runs.c.id.desc())
    if limit is not None:
        query = query.limit(limit)
    rows = conn.execute(query).all()
    if not rows:
        return []
    ids: sa.Select[Any] | Sequence[str]
    if len(rows) <= IN_CHUNK:
        ids = [r.id for r in rows]  # a page: children looked up by id, one query per kind
    elif limit is not None:
        ids = sa.select(query.subquery().c.id)
    else:
        ids = sa.select(runs.c.id).where(condition)
    params = _children(conn, run_params, ids, "key", "value")
    tags = _children(conn, run_tags, ids, "key", "value")
    artifacts = _children(conn, run_artifacts, ids, "name", "digest")
    metrics = _children(conn, run_latest_metrics, ids, "key", "value")
    return [
        Run(
            id=r.id,
            project=r.project,
            name=r.name,
            kind=r.kind,
            status=r.status,
            start_time=r.start_time,
            end_time=r.end_time,
            parent_id=r.parent_id,
            dataset_id=r.dataset_id,
            params=params.get(r.id, {}),
            metrics={k: _value(v) for k, v in metrics.get(r.id, {}).items()},
            tags=tags.get(r.id, {}),
            artifacts=artifacts.get(r.id, {}),
        )
        for r in rows
    ]


def _children(
    conn: Connection, table: sa.Table, ids: sa.Select[Any] | Sequence[str], key: str, value: str
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    if isinstance(ids, sa.Select):
        query = sa.select(table.c.run_id, table.c[key], table.c[value]).where(
            table.c.run_id.in_(ids)
        )
        rows = conn.execute(query)
    else:  # a page of ids: one prebuilt statement per table, the list bound at execution
        rows = conn.execute(_BY_IDS[table.name], {"ids": list(ids)})
    for run_id, k, v in rows:
        out.setdefault(run_id, {})[k] = v
    return out


_BY_IDS = {
    table.name: sa.select(table.c.run_id, table.c[key], table.c[value]).where(
        table.c.run_id.in_(sa.bindparam("ids", expanding=True))
    )
    for table, key, value in (
        (run_params, "key", "value"),
        (run_tags, "key", "value"),
        (run_artifacts, "name", "digest"),
        (run_latest_metrics, "key", "value"),
    )
}


def _value(value: float | None) -> float:
    return math.nan if value is None else float(value)
