"""Deployments in SQL; every change is audited in the same transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from loopml.errors import ConflictError, InvalidInputError, NotFoundError
from loopml.store._base import DeploymentStore
from loopml.store._records import Deployment, utcnow
from loopml.store._sql._audit import append_event
from loopml.store._sql._common import preview, upsert
from loopml.store._sql._database import Database
from loopml.store._sql._tables import deployment_requests, deployments


class SqlDeploymentStore(DeploymentStore):
    """:class:`DeploymentStore` over the ``deployments`` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def put(
        self,
        name: str,
        policy: dict[str, Any],
        *,
        actor: str = "loopml",
        reason: str = "",
        if_updated_at: datetime | None = None,
    ) -> Deployment:
        """Create or replace ``name``'s policy; the audit event (action ``deployment.put``,
        target ``deployment:<name>``) holds the new and the previous policy.

        Raises:
            InvalidInputError: ``name`` is empty or ``policy`` is not a dict.
        """
        if not name or not isinstance(policy, dict):
            raise InvalidInputError(
                f"A deployment needs a non-empty name and a dict policy; got {name!r} and "
                f"{type(policy).__name__}.",
                hint='Pass e.g. put("churn", {"kind": "single", "model": "churn@champion"}).',
            )
        deployment = Deployment(name=name, policy=dict(policy), updated_at=utcnow())
        expected = None if if_updated_at is None else _utc(if_updated_at)

        def work(conn: Connection) -> Deployment:
            row = conn.execute(
                sa.select(deployments.c.policy, deployments.c.updated_at)
                .where(deployments.c.name == name)
                .with_for_update()  # PostgreSQL: a concurrent put waits, then sees this one
            ).one_or_none()
            previous = row.policy if row is not None else None
            if if_updated_at is not None and (row is None or row.updated_at != expected):
                raise ConflictError(
                    f"Deployment {name!r} was changed since it was read; nothing was written.",
                    hint="Read it again and retry.",
                )
            insert = upsert(conn, deployments)
            conn.execute(
                insert.on_conflict_do_update(
                    index_elements=["name"],
                    set_={
                        "policy": insert.excluded.policy,
                        "updated_at": insert.excluded.updated_at,
                    },
                ),
                {"name": name, "policy": deployment.policy, "updated_at": deployment.updated_at},
            )
            conn.execute(
                sa.delete(deployment_requests).where(deployment_requests.c.deployment == name)
            )
            append_event(
                conn,
                actor,
                "deployment.put",
                f"deployment:{name}",
                reason=reason,
                details={"policy": deployment.policy, "previous": previous},
            )
            return deployment

        return self._db.write(work)

    def get(self, name: str) -> Deployment:
        def work(conn: Connection) -> Deployment:
            row = conn.execute(
                sa.select(deployments).where(deployments.c.name == name)
            ).one_or_none()
            if row is not None:
                return Deployment(row.name, row.policy, row.updated_at)
            known = (
                conn.execute(sa.select(deployments.c.name).order_by(deployments.c.name))
                .scalars()
                .all()
            )
            raise NotFoundError(
                f"No deployment is named {name!r}; deployments are {preview(known)}.",
                hint="Create it with `loopml deploy` or pass an existing name.",
            )

        return self._db.read(work)

    def list(self) -> list[Deployment]:
        query = sa.select(deployments).order_by(deployments.c.name)
        return self._db.read(
            lambda conn: [Deployment(r.name, r.policy, r.updated_at) for r in conn.execute(query)]
        )

    def report_requests(
        self,
        name: str,
        policy_time: datetime,
        worker: str,
        counts: dict[str, tuple[int, int]],
    ) -> None:
        if not counts:
            return
        table = deployment_requests
        as_utc = _utc(policy_time)

        def work(conn: Connection) -> None:
            current = conn.execute(
                sa.select(deployments.c.updated_at).where(deployments.c.name == name)
            ).scalar()
            if current != as_utc:
                return  # the policy these counts judge is gone (or never was)
            insert = upsert(conn, table)
            now = utcnow()
            conn.execute(
                insert.on_conflict_do_update(
                    index_elements=["deployment", "policy_time", "arm", "worker"],
                    set_={
                        "requests": insert.excluded.requests,
                        "failures": insert.excluded.failures,
                        "updated_at": insert.excluded.updated_at,
                    },
                ),
                [
                    {
                        "deployment": name,
                        "policy_time": as_utc,
                        "arm": arm,
                        "worker": worker,
                        "requests": requests,
                        "failures": failures,
                        "updated_at": now,
                    }
                    for arm, (requests, failures) in sorted(counts.items())
                ],
            )

        self._db.write(work)

    def request_counts(self, name: str, policy_time: datetime) -> dict[str, tuple[int, int]]:
        table = deployment_requests
        query = (
            sa.select(table.c.arm, sa.func.sum(table.c.requests), sa.func.sum(table.c.failures))
            .where(table.c.deployment == name, table.c.policy_time == policy_time)
            .group_by(table.c.arm)
            .order_by(table.c.arm)
        )
        return self._db.read(
            lambda conn: {
                arm: (int(requests), int(failures))
                for arm, requests, failures in conn.execute(query)
            }
        )


def _utc(time: datetime) -> datetime:
    """``time`` as stored: naive times are taken as UTC."""
    return time if time.tzinfo else time.replace(tzinfo=UTC)
