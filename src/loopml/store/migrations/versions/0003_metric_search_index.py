"""Index latest metric values by key and value, so that a search ordered or filtered by a metric
reads the matching runs in order instead of scanning every run of the project.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_run_latest_metrics_key_value_run_id"),
        "run_latest_metrics",
        ["key", "value", "run_id"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_run_latest_metrics_key_value_run_id"), table_name="run_latest_metrics")
