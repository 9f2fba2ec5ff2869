"""The metadata store (SQLAlchemy: SQLite by default, PostgreSQL) and the artifact store."""

from loopml.store._artifacts import LocalArtifactStore, open_artifacts
from loopml.store._base import (
    AlertStore,
    ArtifactStore,
    AuditLog,
    DatasetStore,
    DeploymentStore,
    MetadataStore,
    ModelStore,
    MonitorStore,
    PredictionStore,
    RunStore,
)
from loopml.store._factory import default_store_url, open_store, register_store_backend
from loopml.store._records import (
    AlertRecord,
    Approval,
    AuditEvent,
    DatasetVersion,
    Deployment,
    Feedback,
    MetricPoint,
    ModelVersion,
    MonitorReport,
    PredictionActivity,
    PredictionRecord,
    Run,
)
from loopml.store._sql import SqlMetadataStore

__all__ = [
    "AlertRecord",
    "AlertStore",
    "Approval",
    "ArtifactStore",
    "AuditEvent",
    "AuditLog",
    "DatasetStore",
    "DatasetVersion",
    "Deployment",
    "DeploymentStore",
    "Feedback",
    "LocalArtifactStore",
    "MetadataStore",
    "MetricPoint",
    "ModelStore",
    "ModelVersion",
    "MonitorReport",
    "MonitorStore",
    "PredictionActivity",
    "PredictionRecord",
    "PredictionStore",
    "Run",
    "RunStore",
    "SqlMetadataStore",
    "default_store_url",
    "open_artifacts",
    "open_store",
    "register_store_backend",
]
