"""Compiling a parsed run filter (:mod:`loopml.store._run_filter`) into bound SQLAlchemy
expressions over ``runs`` and its child tables. Every user value is a bound parameter."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from loopml.store._run_filter import BoolOp, Comparison, Not, OrderKey, RunFilter
from loopml.store._sql._tables import run_latest_metrics, run_params, run_tags, runs

_CHILD_TABLES = {"metric": run_latest_metrics, "param": run_params, "tag": run_tags}


def compile_filter(tree: RunFilter) -> sa.ColumnElement[bool]:
    """The SQL condition on ``runs`` that ``tree`` describes.

    A comparison on a metric, param or tag holds for runs that have that key with a matching
    value (a run without the key never matches, not even ``!=``); ``is null`` holds for the runs
    without the key (for a metric: without a value, NaN included). Metrics compare with their
    latest value; ``like`` ignores case on every backend.
    """
    if isinstance(tree, Not):
        return sa.not_(compile_filter(tree.item))
    if isinstance(tree, BoolOp):
        parts = [compile_filter(item) for item in tree.items]
        return sa.and_(*parts) if tree.op == "and" else sa.or_(*parts)
    if tree.kind == "attribute":
        return _compare(runs.c[tree.key], tree)
    table = _CHILD_TABLES[tree.kind]
    if tree.op in ("is null", "is not null"):
        present = [table.c.run_id == runs.c.id, table.c.key == tree.key]
        if tree.kind == "metric":
            present.append(table.c.value.isnot(None))
        exists = sa.exists().where(*present).correlate(runs)
        return exists if tree.op == "is not null" else ~exists
    return (
        sa.exists()
        .where(table.c.run_id == runs.c.id, table.c.key == tree.key, _compare(table.c.value, tree))
        .correlate(runs)
    )


def _compare(column: sa.ColumnElement[Any], comparison: Comparison) -> sa.ColumnElement[bool]:
    op, value = comparison.op, comparison.value
    if op == "is null":
        return column.is_(None)
    if op == "is not null":
        return column.isnot(None)
    if op in ("in", "not in"):
        assert isinstance(value, tuple)
        return column.in_(list(value)) if op == "in" else column.not_in(list(value))
    assert value is not None and not isinstance(value, tuple)
    if op == "like":
        return column.ilike(value)
    if op == "not like":
        return column.not_ilike(value)
    return _OPERATORS[op](column, value)


_OPERATORS: dict[str, Any] = {
    "=": lambda c, v: c == v,
    "!=": lambda c, v: c != v,
    "<": lambda c, v: c < v,
    "<=": lambda c, v: c <= v,
    ">": lambda c, v: c > v,
    ">=": lambda c, v: c >= v,
}


def search_ids(
    conn: Connection,
    project: str,
    tree: RunFilter | None,
    order: list[OrderKey],
    limit: int | None,
) -> list[str]:
    """Ids of the matching runs of ``project`` in the requested order (then newest first),
    at most ``limit``.

    Ordered by a metric, the runs that have a value for it come first, read in value order
    through the ``(key, value, run_id)`` index, so a top-N search stops after N matches instead
    of sorting every run of the project; the runs without a value (missing or NaN) follow, read
    only when the first part returns fewer than ``limit``.
    """
    base = sa.select(runs.c.id).where(runs.c.project == project)
    if tree is not None:
        base = base.where(compile_filter(tree))
    if not order or order[0].kind != "metric":
        query = _ordered(base, order)
        return list(conn.execute(_limited(query, limit)).scalars())
    first, rest = order[0], order[1:]
    metric = run_latest_metrics.alias("order_0")
    valued = base.join(
        metric,
        sa.and_(
            metric.c.run_id == runs.c.id, metric.c.key == first.key, metric.c.value.isnot(None)
        ),
    )
    value = metric.c.value
    query = _ordered(valued.order_by(value.desc() if first.descending else value.asc()), rest)
    ids = list(conn.execute(_limited(query, limit)).scalars())
    if limit is not None and len(ids) >= limit:
        return ids
    unvalued = base.where(
        ~sa.exists()
        .where(
            run_latest_metrics.c.run_id == runs.c.id,
            run_latest_metrics.c.key == first.key,
            run_latest_metrics.c.value.isnot(None),
        )
        .correlate(runs)
    )
    remaining = None if limit is None else limit - len(ids)
    ids.extend(conn.execute(_limited(_ordered(unvalued, rest), remaining)).scalars())
    return ids


def _ordered(query: sa.Select[Any], order: list[OrderKey]) -> sa.Select[Any]:
    """``query`` ordered by ``order`` (runs without a metric last), then newest first."""
    ordering: list[sa.ColumnElement[Any]] = []
    for index, key in enumerate(order, start=1):
        if key.kind == "metric":
            metric = run_latest_metrics.alias(f"order_{index}")
            query = query.outerjoin(
                metric, sa.and_(metric.c.run_id == runs.c.id, metric.c.key == key.key)
            )
            column: sa.ColumnElement[Any] = metric.c.value
        else:
            column = runs.c[key.key]
        # Runs without the metric (or with NaN, stored as NULL) come last in both directions.
        ordering.extend([column.is_(None), column.desc() if key.descending else column.asc()])
    ordering.extend([runs.c.start_time.desc(), runs.c.id.desc()])
    return query.order_by(*ordering)


def _limited(query: sa.Select[Any], limit: int | None) -> sa.Select[Any]:
    return query.limit(limit) if limit is not None else query
