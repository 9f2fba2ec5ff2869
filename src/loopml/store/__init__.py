"""The metadata store (SQLAlchemy: SQLite by default, PostgreSQL) and the artifact store."""

from loopml.store._base import (
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
from loopml.store._records import (
    AuditEvent,
    DatasetVersion,
    Deployment,
    Feedback,
    MetricPoint,
    ModelVersion,
    MonitorReport,
    PredictionRecord,
    Run,
)

__all__ = [
    "ArtifactStore",
    "AuditEvent",
    "AuditLog",
    "DatasetStore",
    "DatasetVersion",
    "Deployment",
    "DeploymentStore",
    "Feedback",
    "MetadataStore",
    "MetricPoint",
    "ModelStore",
    "ModelVersion",
    "MonitorReport",
    "MonitorStore",
    "PredictionRecord",
    "PredictionStore",
    "Run",
    "RunStore",
]
