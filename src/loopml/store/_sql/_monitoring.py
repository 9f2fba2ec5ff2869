"""Monitoring report summaries in SQL."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from loopml.store._base import MonitorStore
from loopml.store._records import MonitorReport, utcnow
from loopml.store._sql._database import Database
from loopml.store._sql._tables import monitor_reports


class SqlMonitorStore(MonitorStore):
    """:class:`MonitorStore` over the ``monitor_reports`` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(
        self,
        project: str,
        *,
        window: dict[str, Any],
        summary: dict[str, Any],
        model_name: str | None = None,
        model_version: int | None = None,
        artifact: str | None = None,
    ) -> MonitorReport:
        values: dict[str, Any] = {
            "time": utcnow(),
            "project": project,
            "model_name": model_name,
            "model_version": model_version,
            "window": dict(window),
            "summary": dict(summary),
            "artifact": artifact,
        }

        def work(conn: Connection) -> MonitorReport:
            report_id = conn.execute(
                sa.insert(monitor_reports).values(values).returning(monitor_reports.c.id)
            ).scalar_one()
            return MonitorReport(id=report_id, **values)

        return self._db.write(work)

    def list(
        self, project: str, *, model_name: str | None = None, limit: int | None = None
    ) -> list[MonitorReport]:
        query = (
            sa.select(monitor_reports)
            .where(monitor_reports.c.project == project)
            .order_by(monitor_reports.c.time.desc(), monitor_reports.c.id.desc())
        )
        if model_name is not None:
            query = query.where(monitor_reports.c.model_name == model_name)
        if limit is not None:
            query = query.limit(limit)

        def work(conn: Connection) -> list[MonitorReport]:
            return [
                MonitorReport(
                    id=r.id,
                    time=r.time,
                    project=r.project,
                    model_name=r.model_name,
                    model_version=r.model_version,
                    window=r.window,
                    summary=r.summary,
                    artifact=r.artifact,
                )
                for r in conn.execute(query)
            ]

        return self._db.read(work)
