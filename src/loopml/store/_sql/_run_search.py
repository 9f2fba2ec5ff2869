"""Compiling a parsed run filter (:mod:`loopml.store._run_filter`) into bound SQLAlchemy
expressions over ``runs`` and its child tables. Every user value is a bound parameter."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from loopml.store._run_filter import BoolOp, Comparison, OrderKey, RunFilter
from loopml.store._sql._tables import run_latest_metrics, run_params, run_tags, runs

_CHILD_TABLES = {"metric": run_latest_metrics, "param": run_params, "tag": run_tags}


def compile_filter(tree: RunFilter) -> sa.ColumnElement[bool]:
    """The SQL condition on ``runs`` that ``tree`` describes.

    A comparison on a metric, param or tag holds for runs that have that key with a matching
    value (a run without the key never matches, not even ``!=``). Metrics compare with their
    latest value; ``like`` ignores case on every backend.
    """
    if isinstance(tree, BoolOp):
        parts = [compile_filter(item) for item in tree.items]
        return sa.and_(*parts) if tree.op == "and" else sa.or_(*parts)
    if tree.kind == "attribute":
        return _compare(runs.c[tree.key], tree)
    table = _CHILD_TABLES[tree.kind]
    return (
        sa.exists()
        .where(table.c.run_id == runs.c.id, table.c.key == tree.key, _compare(table.c.value, tree))
        .correlate(runs)
    )


def _compare(column: sa.ColumnElement[Any], comparison: Comparison) -> sa.ColumnElement[bool]:
    op, value = comparison.op, comparison.value
    if op == "in":
        assert isinstance(value, tuple)
        return column.in_(list(value))
    assert not isinstance(value, tuple)
    if op == "like":
        return column.ilike(value)
    return _OPERATORS[op](column, value)


_OPERATORS: dict[str, Any] = {
    "=": lambda c, v: c == v,
    "!=": lambda c, v: c != v,
    "<": lambda c, v: c < v,
    "<=": lambda c, v: c <= v,
    ">": lambda c, v: c > v,
    ">=": lambda c, v: c >= v,
}


def search_query(
    project: str, tree: RunFilter | None, order: list[OrderKey], limit: int | None
) -> sa.Select[Any]:
    """``SELECT runs.id`` of the matching runs of ``project`` in the requested order (then newest
    first), limited to ``limit``."""
    query = sa.select(runs.c.id).where(runs.c.project == project)
    if tree is not None:
        query = query.where(compile_filter(tree))
    ordering: list[sa.ColumnElement[Any]] = []
    for index, key in enumerate(order):
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
    query = query.order_by(*ordering)
    return query.limit(limit) if limit is not None else query
