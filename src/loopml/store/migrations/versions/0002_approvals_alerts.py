"""Approvals of model versions and raised alerts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "approvals",
        sa.Column("id", _ID, nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("model_name", sa.String(length=255), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("approver", sa.String(length=255), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approvals")),
    )
    op.create_index(
        op.f("ix_approvals_model_name_model_version"),
        "approvals",
        ["model_name", "model_version"],
    )
    op.create_table(
        "alerts",
        sa.Column("id", _ID, nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("project", sa.String(length=255), nullable=False),
        sa.Column("rule", sa.String(length=255), nullable=False),
        sa.Column("severity", sa.String(length=32), nullable=False),
        sa.Column("model_name", sa.String(length=255), nullable=True),
        sa.Column("model_version", sa.Integer(), nullable=True),
        sa.Column("metric", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    op.create_index(op.f("ix_alerts_project_time"), "alerts", ["project", "time"])
    op.create_index(op.f("ix_alerts_fingerprint_time"), "alerts", ["fingerprint", "time"])


def downgrade() -> None:
    op.drop_index(op.f("ix_alerts_fingerprint_time"), table_name="alerts")
    op.drop_index(op.f("ix_alerts_project_time"), table_name="alerts")
    op.drop_table("alerts")
    op.drop_index(op.f("ix_approvals_model_name_model_version"), table_name="approvals")
    op.drop_table("approvals")
