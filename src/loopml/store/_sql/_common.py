"""Small SQL helpers shared by the sub-stores."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

T = TypeVar("T")

IN_CHUNK = 500
"""Most values bound in one ``IN (…)`` list."""


def upsert(conn: Connection, table: sa.Table) -> Any:
    """The dialect's ``INSERT`` that supports ``on_conflict_do_update``/``_do_nothing``."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def chunks(items: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    """``items`` in consecutive slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def existing_keys(conn: Connection, column: sa.Column[Any], keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` appear in ``column``."""
    found: set[str] = set()
    for part in chunks(keys):
        found.update(conn.execute(sa.select(column).where(column.in_(part))).scalars())
    return found


def preview(names: Sequence[object], limit: int = 10) -> str:
    """``a, b, c`` (or ``a, b, … and 12 more``), or ``none`` for an empty list."""
    shown = ", ".join(str(n) for n in names[:limit])
    if len(names) > limit:
        shown += f", … and {len(names) - limit} more"
    return shown or "none"


def to_utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime (a naive one is taken to be UTC already)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
