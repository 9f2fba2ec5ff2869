"""The prediction log and its feedback in SQL."""

from __future__ import annotations

import builtins
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from loopml.errors import AlreadyExistsError, NotFoundError
from loopml.store._base import PredictionStore
from loopml.store._records import Feedback, PredictionActivity, PredictionRecord
from loopml.store._sql._bulk import BulkInsert
from loopml.store._sql._common import chunks, existing_keys, preview, to_utc, upsert
from loopml.store._sql._database import Database
from loopml.store._sql._tables import feedback, predictions

_INSERT_PREDICTIONS = BulkInsert(
    predictions,
    (
        "request_id",
        "time",
        "model_name",
        "model_version",
        "deployment",
        "inputs",
        "outputs",
        "latency_ms",
    ),
)
"""The prediction log's insert, sent straight to the driver (it runs for every served batch)."""


def _record(row: sa.Row[tuple[object, ...]]) -> PredictionRecord:
    return PredictionRecord(
        request_id=row.request_id,
        time=row.time,
        model_name=row.model_name,
        model_version=row.model_version,
        inputs=row.inputs,
        outputs=row.outputs,
        latency_ms=row.latency_ms,
        deployment=row.deployment,
    )


class SqlPredictionStore(PredictionStore):
    """:class:`PredictionStore` over the ``predictions`` and ``feedback`` tables."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, records: Sequence[PredictionRecord]) -> int:
        """See :meth:`PredictionStore.add`; a request id repeated inside the batch is rejected
        the same way as one logged before."""
        if not records:
            return 0
        ids = [r.request_id for r in records]
        repeated = sorted(i for i, n in Counter(ids).items() if n > 1)
        if repeated:
            raise AlreadyExistsError(
                f"Request ids {preview(repeated)} appear more than once in the batch; nothing "
                "was logged.",
                hint="Give every prediction its own request id.",
            )
        rows = [
            {
                "request_id": r.request_id,
                "time": to_utc(r.time),
                "model_name": r.model_name,
                "model_version": int(r.model_version),
                "deployment": r.deployment,
                "inputs": r.inputs,
                "outputs": r.outputs,
                "latency_ms": float(r.latency_ms),
            }
            for r in records
        ]

        def work(conn: Connection) -> int:
            taken = existing_keys(conn, predictions.c.request_id, ids)
            if taken:
                raise AlreadyExistsError(
                    f"Request ids {preview(sorted(taken))} are already logged; nothing was "
                    "logged from this batch.",
                    hint="Give every prediction a fresh request id.",
                )
            _INSERT_PREDICTIONS.execute(conn, rows)
            return len(rows)

        return self._db.write(work)

    def get(self, request_id: str) -> PredictionRecord:
        def work(conn: Connection) -> PredictionRecord:
            row = conn.execute(
                sa.select(predictions).where(predictions.c.request_id == request_id)
            ).one_or_none()
            if row is None:
                raise NotFoundError(
                    f"No prediction has the request id {request_id!r}.",
                    hint="Pass the request_id returned with the prediction.",
                )
            return _record(row)

        return self._db.read(work)

    def list(
        self,
        *,
        model_name: str | None = None,
        model_version: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> builtins.list[PredictionRecord]:
        column = predictions.c
        query = sa.select(predictions).order_by(column.time, column.request_id)
        if model_name is not None:
            query = query.where(column.model_name == model_name)
        if model_version is not None:
            query = query.where(column.model_version == model_version)
        if since is not None:
            query = query.where(column.time >= since)
        if until is not None:
            query = query.where(column.time < until)
        if limit is not None:
            query = query.limit(limit)
        return self._db.read(lambda conn: [_record(row) for row in conn.execute(query)])

    def activity(
        self, *, model_name: str | None = None, model_version: int | None = None
    ) -> builtins.list[PredictionActivity]:
        column = predictions.c
        keys = (column.model_name, column.model_version, column.deployment)
        query = (
            sa.select(*keys, sa.func.count(), sa.func.min(column.time), sa.func.max(column.time))
            .group_by(*keys)
            .order_by(*keys)
        )
        if model_name is not None:
            query = query.where(column.model_name == model_name)
        if model_version is not None:
            query = query.where(column.model_version == model_version)

        def work(conn: Connection) -> list[PredictionActivity]:
            # min/max keep the column's type, so times come back as aware UTC datetimes.
            return [
                PredictionActivity(name, version, deployment, count, first, last)
                for name, version, deployment, count, first, last in conn.execute(query)
            ]

        return self._db.read(work)

    def add_feedback(self, items: Sequence[Feedback]) -> int:
        """See :meth:`PredictionStore.add_feedback`; within one batch a later item for the same
        request id replaces an earlier one. Returns how many request ids got a label."""
        latest = {item.request_id: item for item in items}
        if not latest:
            return 0
        rows = [
            {"request_id": i.request_id, "label": i.label, "time": to_utc(i.time)}
            for i in latest.values()
        ]

        def work(conn: Connection) -> int:
            known = existing_keys(conn, predictions.c.request_id, builtins.list(latest))
            missing = sorted(set(latest) - known)
            if missing:
                raise NotFoundError(
                    f"Request ids {preview(missing)} have no logged prediction; no feedback "
                    "from this batch was stored.",
                    hint="Send feedback only for request ids returned by predictions.",
                )
            insert = upsert(conn, feedback)
            conn.execute(
                insert.on_conflict_do_update(
                    index_elements=["request_id"],
                    set_={"label": insert.excluded.label, "time": insert.excluded.time},
                ),
                rows,
            )
            return len(rows)

        return self._db.write(work)

    def feedback(self, request_ids: Sequence[str] | None = None) -> dict[str, Feedback]:
        def work(conn: Connection) -> dict[str, Feedback]:
            if request_ids is None:
                queries = [sa.select(feedback)]
            else:
                ids = builtins.list(dict.fromkeys(request_ids))
                queries = [
                    sa.select(feedback).where(feedback.c.request_id.in_(part))
                    for part in chunks(ids)
                ]
            return {
                row.request_id: Feedback(row.request_id, row.label, row.time)
                for query in queries
                for row in conn.execute(query)
            }

        return self._db.read(work)
