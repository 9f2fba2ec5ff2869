"""Alert history in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from loopml.store._base import AlertStore
from loopml.store._records import AlertRecord, utcnow
from loopml.store._sql._common import to_utc
from loopml.store._sql._database import Database
from loopml.store._sql._tables import alerts


def _record(row: Row[Any]) -> AlertRecord:
    return AlertRecord(
        id=row.id,
        time=to_utc(row.time),
        project=row.project,
        rule=row.rule,
        severity=row.severity,
        metric=row.metric,
        value=row.value,
        threshold=row.threshold,
        message=row.message,
        fingerprint=row.fingerprint,
        channels=list(row.channels),
        model_name=row.model_name,
        model_version=row.model_version,
    )


class SqlAlertStore(AlertStore):
    """:class:`AlertStore` over the ``alerts`` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(
        self,
        project: str,
        *,
        rule: str,
        severity: str,
        metric: str,
        value: float | None,
        threshold: float | None,
        message: str,
        fingerprint: str,
        channels: Sequence[str] = (),
        model_name: str | None = None,
        model_version: int | None = None,
        time: datetime | None = None,
    ) -> AlertRecord:
        values: dict[str, Any] = {
            "time": to_utc(time) if time is not None else utcnow(),
            "project": project,
            "rule": rule,
            "severity": severity,
            "model_name": model_name,
            "model_version": model_version,
            "metric": metric,
            "value": value,
            "threshold": threshold,
            "message": message,
            "channels": list(channels),
            "fingerprint": fingerprint,
        }

        def work(conn: Connection) -> AlertRecord:
            alert_id = conn.execute(
                sa.insert(alerts).values(values).returning(alerts.c.id)
            ).scalar_one()
            return AlertRecord(id=alert_id, **values)

        return self._db.write(work)

    def list(
        self,
        project: str,
        *,
        rule: str | None = None,
        model_name: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[AlertRecord]:
        query = (
            sa.select(alerts)
            .where(alerts.c.project == project)
            .order_by(alerts.c.time.desc(), alerts.c.id.desc())
        )
        if rule is not None:
            query = query.where(alerts.c.rule == rule)
        if model_name is not None:
            query = query.where(alerts.c.model_name == model_name)
        if since is not None:
            query = query.where(alerts.c.time >= to_utc(since))
        if limit is not None:
            query = query.limit(limit)
        return self._db.read(lambda conn: [_record(r) for r in conn.execute(query)])

    def last(self, fingerprint: str) -> AlertRecord | None:
        query = (
            sa.select(alerts)
            .where(alerts.c.fingerprint == fingerprint)
            .order_by(alerts.c.time.desc(), alerts.c.id.desc())
            .limit(1)
        )

        def work(conn: Connection) -> AlertRecord | None:
            row = conn.execute(query).first()
            return _record(row) if row is not None else None

        return self._db.read(work)
