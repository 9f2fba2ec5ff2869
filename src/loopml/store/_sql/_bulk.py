"""Plain multi-row inserts compiled once per dialect and sent straight to the driver.

The tracking hot path writes a handful of small row sets per transaction; going through
SQLAlchemy's statement execution for each costs more than SQLite takes to store the rows. A
:class:`BulkInsert` compiles its ``INSERT`` once per dialect, applies the columns' bind processors
itself (so values are stored exactly as SQLAlchemy would store them: same datetime format, same
types) and runs ``Connection.exec_driver_sql``, which keeps SQLAlchemy's error wrapping (so the
retry and error translation of :class:`~loopml.store._sql._database.Database` still apply).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, CursorResult

from loopml.store._sql._common import upsert

Processor = Callable[[Any], Any] | None
Compiled = tuple[str, bool, list[tuple[str, Processor]]]


class BulkInsert:
    """``INSERT INTO table (columns…) VALUES …`` (``ON CONFLICT DO NOTHING`` on ``conflict``)."""

    def __init__(
        self, table: sa.Table, columns: Sequence[str], *, conflict: Sequence[str] = ()
    ) -> None:
        self.table = table
        self.columns = tuple(columns)
        self.conflict = tuple(conflict)
        self._compiled: dict[str, Compiled] = {}

    def execute(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> CursorResult[Any]:
        """Insert ``rows`` (dicts with every column of :attr:`columns`); one round trip."""
        sql, positional, processors = self._compile(conn)
        converted: list[Any] = []
        for row in rows:
            values = [row[name] if p is None else p(row[name]) for name, p in processors]
            converted.append(
                tuple(values)
                if positional
                else {name: value for (name, _), value in zip(processors, values, strict=True)}
            )
        if len(converted) == 1:
            return conn.exec_driver_sql(sql, converted[0])
        return conn.exec_driver_sql(sql, converted)

    def _compile(self, conn: Connection) -> Compiled:
        dialect = conn.dialect
        found = self._compiled.get(dialect.name)
        if found is None:
            if self.conflict:
                statement = upsert(conn, self.table).on_conflict_do_nothing(
                    index_elements=list(self.conflict)
                )
            else:
                statement = sa.insert(self.table)
            compiled = statement.compile(dialect=dialect, column_keys=list(self.columns))
            positional = bool(compiled.positional)
            # Values go to the driver in the compiled statement's parameter order.
            order = list(compiled.positiontup or []) if positional else list(self.columns)
            processors: list[tuple[str, Processor]] = [
                (name, self.table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
                for name in order
            ]
            found = (str(compiled), positional, processors)
            self._compiled[dialect.name] = found
        return found
