"""Logging params, metrics, tags and artifacts to a run, in the caller's transaction."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from loopml.errors import InvalidInputError, NotFoundError
from loopml.store._records import MetricPoint
from loopml.store._sql._common import chunks, to_utc, upsert
from loopml.store._sql._tables import (
    run_artifacts,
    run_latest_metrics,
    run_metrics,
    run_params,
    run_tags,
    runs,
)


def require_run(conn: Connection, run_id: str) -> None:
    """Raises NotFoundError unless a run has exactly the id ``run_id``."""
    if conn.execute(sa.select(runs.c.id).where(runs.c.id == run_id)).first() is None:
        raise NotFoundError(
            f"No run has the id {run_id!r}.",
            hint="Pass the full id of a run created with runs.create().",
        )


def log_batch(
    conn: Connection,
    run_id: str,
    *,
    params: Mapping[str, Any] | None,
    metrics: Sequence[MetricPoint],
    tags: Mapping[str, Any] | None,
    artifacts: Mapping[str, str] | None,
) -> None:
    """Write everything given to ``run_id``; see :meth:`RunStore.log_batch`."""
    require_run(conn, run_id)
    if params:
        _log_params(conn, run_id, {str(k): str(v) for k, v in params.items()})
    if metrics:
        _log_metrics(conn, run_id, metrics)
    if tags:
        _overwrite(conn, run_tags, run_id, "key", "value", tags)
    if artifacts:
        _overwrite(conn, run_artifacts, run_id, "name", "digest", artifacts)


def _log_params(conn: Connection, run_id: str, params: dict[str, str]) -> None:
    conn.execute(
        _statement(conn, "params"),
        [{"run_id": run_id, "key": k, "value": v} for k, v in params.items()],
    )
    # Read back: a key inserted earlier (by us or a concurrent writer) keeps its first value.
    stored: dict[str, str] = {}
    for part in chunks(list(params)):
        query = sa.select(run_params.c.key, run_params.c.value).where(
            run_params.c.run_id == run_id, run_params.c.key.in_(part)
        )
        stored.update((k, v) for k, v in conn.execute(query))
    conflicts = sorted(k for k, v in params.items() if stored[k] != v)
    if conflicts:
        key = conflicts[0]
        raise InvalidInputError(
            f"Param {key!r} of run {run_id!r} was already logged as {stored[key]!r}; it cannot "
            f"be re-logged as {params[key]!r}"
            + (f" (nor {len(conflicts) - 1} other params)." if len(conflicts) > 1 else "."),
            hint="Params are fixed once logged; start a new run, or log a metric or tag instead.",
            details={"conflicts": conflicts},
        )


def metric_rows(run_id: str, metrics: Sequence[MetricPoint]) -> list[dict[str, Any]]:
    """``run_metrics`` rows for ``metrics`` (NaN stored as NULL)."""
    return [
        {
            "run_id": run_id,
            "key": point.key,
            "value": None if math.isnan(point.value) else float(point.value),
            "step": int(point.step),
            "timestamp": to_utc(point.timestamp),
        }
        for point in metrics
    ]


def latest_rows(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each key's latest row: largest step, then newest; later rows win ties, as they would one
    call at a time."""
    latest: dict[str, dict[str, Any]] = {}
    for row in rows:
        best = latest.get(row["key"])
        if best is None or _order(row) >= _order(best):
            latest[row["key"]] = row
    return latest


def _log_metrics(conn: Connection, run_id: str, metrics: Sequence[MetricPoint]) -> None:
    rows = metric_rows(run_id, metrics)
    conn.execute(INSERT_METRICS, rows)
    conn.execute(_statement(conn, "latest"), list(latest_rows(rows).values()))


def _order(row: dict[str, Any]) -> tuple[int, datetime]:
    return row["step"], row["timestamp"]


def _overwrite(
    conn: Connection,
    table: sa.Table,
    run_id: str,
    key: str,
    value: str,
    items: Mapping[str, Any],
) -> None:
    conn.execute(
        _statement(conn, table.name),
        [{"run_id": run_id, key: str(k), value: str(v)} for k, v in items.items()],
    )


INSERT_METRICS = sa.insert(run_metrics)

_STATEMENTS: dict[tuple[str, str], Any] = {}


def _statement(conn: Connection, name: str) -> Any:
    """The dialect's upsert statement ``name``, built once per dialect (building an
    ``ON CONFLICT`` clause costs more than executing it)."""
    cache_key = (conn.dialect.name, name)
    statement = _STATEMENTS.get(cache_key)
    if statement is None:
        statement = _STATEMENTS[cache_key] = _build(conn, name)
    return statement


def _build(conn: Connection, name: str) -> Any:
    if name == "params":
        return upsert(conn, run_params).on_conflict_do_nothing(index_elements=["run_id", "key"])
    if name == "latest":
        insert = upsert(conn, run_latest_metrics)
        current = run_latest_metrics.c
        return insert.on_conflict_do_update(
            index_elements=["run_id", "key"],
            set_={
                "value": insert.excluded.value,
                "step": insert.excluded.step,
                "timestamp": insert.excluded.timestamp,
            },
            where=sa.or_(
                current.step < insert.excluded.step,
                sa.and_(
                    current.step == insert.excluded.step,
                    current.timestamp <= insert.excluded.timestamp,
                ),
            ),
        )
    table, key, value = {
        "run_tags": (run_tags, "key", "value"),
        "run_artifacts": (run_artifacts, "name", "digest"),
    }[name]
    insert = upsert(conn, table)
    return insert.on_conflict_do_update(
        index_elements=["run_id", key], set_={value: insert.excluded[value]}
    )
