"""Per-worker request and failure counts of each deployment arm, so that a canary's guardrails
judge the traffic of every serving worker rather than only the controller's own.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deployment_requests",
        sa.Column("deployment", sa.String(length=255), nullable=False),
        sa.Column("policy_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("arm", sa.String(length=255), nullable=False),
        sa.Column("worker", sa.String(length=255), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("failures", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "deployment", "policy_time", "arm", "worker", name=op.f("pk_deployment_requests")
        ),
    )


def downgrade() -> None:
    op.drop_table("deployment_requests")
