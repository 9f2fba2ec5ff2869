"""The audit log in SQL; :func:`append_event` also serves the other sub-stores' transactions."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from loopml.store._base import AuditLog
from loopml.store._records import AuditEvent, utcnow
from loopml.store._sql._database import Database
from loopml.store._sql._tables import audit_events


def append_event(
    conn: Connection,
    actor: str,
    action: str,
    target: str,
    *,
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Insert one event in the caller's transaction and return it."""
    values: dict[str, Any] = {
        "time": utcnow(),
        "actor": actor,
        "action": action,
        "target": target,
        "reason": reason,
        "details": details or {},
    }
    event_id = conn.execute(
        sa.insert(audit_events).values(values).returning(audit_events.c.id)
    ).scalar_one()
    return AuditEvent(id=event_id, **values)


class SqlAuditLog(AuditLog):
    """:class:`AuditLog` over the ``audit_events`` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def append(
        self,
        actor: str,
        action: str,
        target: str,
        *,
        reason: str = "",
        details: dict[str, Any] | None = None,
    ) -> AuditEvent:
        return self._db.write(
            lambda conn: append_event(conn, actor, action, target, reason=reason, details=details)
        )

    def list(self, *, target: str | None = None, limit: int | None = None) -> list[AuditEvent]:
        """Events in the order they were appended; with ``limit``, the newest ``limit`` of them
        (still oldest first)."""
        query = sa.select(audit_events).order_by(audit_events.c.id.desc())
        if target is not None:
            column = audit_events.c.target
            query = query.where(
                sa.or_(
                    column == target,
                    column.startswith(f"{target}:", autoescape=True),
                    column.startswith(f"{target}@", autoescape=True),
                )
            )
        if limit is not None:
            query = query.limit(limit)

        def work(conn: Connection) -> list[AuditEvent]:
            events = [
                AuditEvent(r.id, r.time, r.actor, r.action, r.target, r.reason, r.details)
                for r in conn.execute(query)
            ]
            return events[::-1]

        return self._db.read(work)
