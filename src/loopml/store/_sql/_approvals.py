"""Approvals of model versions in SQL (the ``approvals`` table of migration 0002).

The model store delegates here; each approval is written with its ``model.approve`` audit event in
one transaction.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from loopml.errors import InvalidInputError
from loopml.store._records import Approval, utcnow
from loopml.store._sql._audit import append_event
from loopml.store._sql._tables import approvals


def insert_approval(
    conn: Connection,
    name: str,
    version: int,
    *,
    approver: str,
    reason: str,
    details: dict[str, Any] | None,
) -> Approval:
    """Insert one approval and its audit event in the caller's transaction (the caller has
    checked that the version exists).

    Raises:
        InvalidInputError: ``approver`` or ``reason`` is blank.
    """
    if not approver.strip() or not reason.strip():
        missing = "approver" if not approver.strip() else "reason"
        raise InvalidInputError(
            f"An approval of {name}:{version} needs a non-empty {missing}.",
            hint="Say who approves and why, e.g. --by ann --reason 'reviewed the fairness report'.",
        )
    values: dict[str, Any] = {
        "time": utcnow(),
        "model_name": name,
        "model_version": version,
        "approver": approver.strip(),
        "reason": reason.strip(),
        "details": dict(details or {}),
    }
    approval_id = conn.execute(
        sa.insert(approvals).values(values).returning(approvals.c.id)
    ).scalar_one()
    append_event(
        conn,
        values["approver"],
        "model.approve",
        f"{name}:{version}",
        reason=values["reason"],
        details={"approval_id": approval_id, **values["details"]},
    )
    return Approval(id=approval_id, **values)


def select_approvals(conn: Connection, name: str, version: int | None) -> list[Approval]:
    """Approvals of ``name`` (of ``version`` when given), oldest first."""
    query = sa.select(approvals).where(approvals.c.model_name == name).order_by(approvals.c.id)
    if version is not None:
        query = query.where(approvals.c.model_version == version)
    return [
        Approval(
            id=row.id,
            time=row.time,
            model_name=row.model_name,
            model_version=row.model_version,
            approver=row.approver,
            reason=row.reason,
            details=row.details,
        )
        for row in conn.execute(query)
    ]
