"""The metadata store's schema: one SQLAlchemy ``MetaData`` shared by every backend.

Alembic migrations in :mod:`loopml.store.migrations` build exactly this schema; a test compares
the migrated database with it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timestamp stored in UTC and returned timezone-aware; naive inputs are taken as UTC."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        # SQLite keeps no offset; storing naive UTC keeps text ordering equal to time ordering.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


ID = sa.String(64)
NAME = sa.String(255)

datasets = sa.Table(
    "datasets",
    metadata,
    sa.Column("project", NAME, primary_key=True),
    sa.Column("id", ID, primary_key=True),
    sa.Column("content_hash", ID, nullable=False),
    sa.Column("artifact", ID, nullable=False),
    sa.Column("n_rows", sa.BigInteger, nullable=False),
    sa.Column("n_columns", sa.Integer, nullable=False),
    sa.Column("source", sa.JSON, nullable=False),
    sa.Column("schema", sa.JSON, nullable=False),
    sa.Column("parent_id", ID, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("project", "content_hash"),
    sa.Index(None, "project", "created_at"),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("project", NAME, nullable=False),
    sa.Column("name", NAME, nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("start_time", UTCDateTime, nullable=False),
    sa.Column("end_time", UTCDateTime, nullable=True),
    sa.Column("parent_id", ID, sa.ForeignKey("runs.id"), nullable=True),
    sa.Column("dataset_id", ID, nullable=True),
    sa.Index(None, "project", "start_time"),
    sa.Index(None, "project", "kind", "start_time"),
    sa.Index(None, "parent_id"),
    sa.Index(None, "dataset_id"),
)


def _run_child(name: str, *items: sa.schema.SchemaItem, pk: tuple[str, ...]) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("run_id", ID, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        *items,
        sa.PrimaryKeyConstraint("run_id", *pk),
    )


run_params = _run_child(
    "run_params",
    sa.Column("key", NAME, nullable=False),
    sa.Column("value", sa.Text, nullable=False),
    pk=("key",),
)
run_tags = _run_child(
    "run_tags",
    sa.Column("key", NAME, nullable=False),
    sa.Column("value", sa.Text, nullable=False),
    pk=("key",),
)
run_artifacts = _run_child(
    "run_artifacts",
    sa.Column("name", NAME, nullable=False),
    sa.Column("digest", ID, nullable=False),
    pk=("name",),
)
run_latest_metrics = _run_child(
    "run_latest_metrics",
    sa.Column("key", NAME, nullable=False),
    sa.Column("value", sa.Float, nullable=True),  # NULL holds NaN (SQLite has no NaN)
    sa.Column("step", sa.BigInteger, nullable=False),
    sa.Column("timestamp", UTCDateTime, nullable=False),
    # Searches ordered or filtered by a metric walk this index (migration 0003).
    sa.Index(None, "key", "value", "run_id"),
    pk=("key",),
)
run_metrics = sa.Table(
    "run_metrics",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("run_id", ID, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("key", NAME, nullable=False),
    sa.Column("value", sa.Float, nullable=True),  # NULL holds NaN (SQLite has no NaN)
    sa.Column("step", sa.BigInteger, nullable=False),
    sa.Column("timestamp", UTCDateTime, nullable=False),
    sa.Index(None, "run_id", "key", "step"),
)

model_versions = sa.Table(
    "model_versions",
    metadata,
    sa.Column("name", NAME, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("run_id", ID, nullable=True),
    sa.Column("artifact", ID, nullable=False),
    sa.Column("task", sa.String(32), nullable=False),
    sa.Column("dataset_id", ID, nullable=True),
    sa.Column("stage", sa.String(16), nullable=False),
    sa.Column("metrics", sa.JSON, nullable=False),
    sa.Column("signature", sa.JSON, nullable=False),
    sa.Column("gates", sa.JSON, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Index(None, "run_id"),
)

model_aliases = sa.Table(
    "model_aliases",
    metadata,
    sa.Column("name", NAME, primary_key=True),
    sa.Column("alias", NAME, primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.ForeignKeyConstraint(["name", "version"], ["model_versions.name", "model_versions.version"]),
)

audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("time", UTCDateTime, nullable=False),
    sa.Column("actor", NAME, nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(512), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("details", sa.JSON, nullable=False),
    sa.Index(None, "target"),
)

deployments = sa.Table(
    "deployments",
    metadata,
    sa.Column("name", NAME, primary_key=True),
    sa.Column("policy", sa.JSON, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

deployment_requests = sa.Table(
    "deployment_requests",
    metadata,
    sa.Column("deployment", NAME, primary_key=True),
    sa.Column("policy_time", UTCDateTime, primary_key=True),
    sa.Column("arm", NAME, primary_key=True),
    sa.Column("worker", NAME, primary_key=True),
    sa.Column("requests", sa.BigInteger, nullable=False),
    sa.Column("failures", sa.BigInteger, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

predictions = sa.Table(
    "predictions",
    metadata,
    sa.Column("request_id", NAME, primary_key=True),
    sa.Column("time", UTCDateTime, nullable=False),
    sa.Column("model_name", NAME, nullable=False),
    sa.Column("model_version", sa.Integer, nullable=False),
    sa.Column("deployment", NAME, nullable=False),
    sa.Column("inputs", sa.JSON, nullable=False),
    sa.Column("outputs", sa.JSON, nullable=False),
    sa.Column("latency_ms", sa.Float, nullable=False),
    sa.Index(None, "time"),
    sa.Index(None, "model_name", "model_version", "time"),
)

feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column(
        "request_id",
        NAME,
        sa.ForeignKey("predictions.request_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("label", sa.JSON, nullable=True),
    sa.Column("time", UTCDateTime, nullable=False),
)

monitor_reports = sa.Table(
    "monitor_reports",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("time", UTCDateTime, nullable=False),
    sa.Column("project", NAME, nullable=False),
    sa.Column("model_name", NAME, nullable=True),
    sa.Column("model_version", sa.Integer, nullable=True),
    sa.Column("window", sa.JSON, nullable=False),
    sa.Column("summary", sa.JSON, nullable=False),
    sa.Column("artifact", ID, nullable=True),
    sa.Index(None, "project", "time"),
)

approvals = sa.Table(
    "approvals",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("time", UTCDateTime, nullable=False),
    sa.Column("model_name", NAME, nullable=False),
    sa.Column("model_version", sa.Integer, nullable=False),
    sa.Column("approver", NAME, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("details", sa.JSON, nullable=False),
    sa.Index(None, "model_name", "model_version"),
)

alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("time", UTCDateTime, nullable=False),
    sa.Column("project", NAME, nullable=False),
    sa.Column("rule", NAME, nullable=False),
    sa.Column("severity", sa.String(32), nullable=False),
    sa.Column("model_name", NAME, nullable=True),
    sa.Column("model_version", sa.Integer, nullable=True),
    sa.Column("metric", NAME, nullable=False),
    sa.Column("value", sa.Float, nullable=True),
    sa.Column("threshold", sa.Float, nullable=True),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("channels", sa.JSON, nullable=False),
    sa.Column("fingerprint", ID, nullable=False),
    sa.Index(None, "project", "time"),
    sa.Index(None, "fingerprint", "time"),
)
