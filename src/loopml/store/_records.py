"""Plain records the metadata store reads and writes.

They are backend-neutral value objects: every store implementation returns exactly these, so
callers never see ORM rows. Times are timezone-aware UTC datetimes. ``dict`` fields hold JSON-able
values only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

RunStatus = Literal["running", "finished", "failed"]
ModelStage = Literal["candidate", "staging", "production", "archived"]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class DatasetVersion:
    """An immutable, content-hashed snapshot of ingested data.

    ``id`` is the first 12 hex digits of ``content_hash`` (SHA-256 of the canonical Parquet
    snapshot's data), so ingesting identical data yields the same id. ``artifact`` is the digest of
    the Parquet snapshot in the artifact store.
    """

    id: str
    project: str
    content_hash: str
    artifact: str
    n_rows: int
    n_columns: int
    source: dict[str, Any]
    schema: dict[str, Any]
    parent_id: str | None = None
    created_at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class MetricPoint:
    """One logged metric value; ``step`` orders a metric's history."""

    key: str
    value: float
    step: int = 0
    timestamp: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class Run:
    """A training, tuning, evaluation, scoring or retraining job.

    ``metrics`` holds each metric's latest value (largest step, then newest); the full history is
    :meth:`RunStore.metric_history`. ``artifacts`` maps names to artifact digests.
    """

    id: str
    project: str
    name: str
    kind: str
    status: RunStatus
    start_time: datetime
    end_time: datetime | None = None
    parent_id: str | None = None
    dataset_id: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    artifacts: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelVersion:
    """A registered model version.

    ``artifact`` is the digest of the serialized :class:`~loopml.train.ModelBundle`; ``signature``
    the data contract (as a dict) requests are checked against; ``gates`` the acceptance results,
    one dict per criterion with at least ``{"name", "passed", "value", "limit", "message"}``.
    """

    name: str
    version: int
    run_id: str | None
    artifact: str
    task: str
    dataset_id: str | None = None
    stage: ModelStage = "candidate"
    metrics: dict[str, float] = field(default_factory=dict)
    signature: dict[str, Any] = field(default_factory=dict)
    gates: list[dict[str, Any]] = field(default_factory=list)
    description: str = ""
    created_at: datetime = field(default_factory=utcnow)
    aliases: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.version}"


@dataclass(frozen=True)
class AuditEvent:
    """An immutable record of a change: who did what to which target, when and why."""

    id: int
    time: datetime
    actor: str
    action: str
    target: str
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Approval:
    """A person's sign-off that model version ``model_name:model_version`` may take a protected
    alias (see :class:`~loopml.registry.Governance`)."""

    id: int
    time: datetime
    model_name: str
    model_version: int
    approver: str
    reason: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        return f"{self.model_name}:{self.model_version}"


@dataclass(frozen=True)
class Deployment:
    """A named endpoint and its routing policy (a JSON-able dict, e.g. ``{"kind": "single",
    "model": "churn@champion"}``)."""

    name: str
    policy: dict[str, Any]
    updated_at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class PredictionRecord:
    """One served or batch prediction: inputs, outputs and latency, keyed by ``request_id``."""

    request_id: str
    time: datetime
    model_name: str
    model_version: int
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    latency_ms: float = 0.0
    deployment: str = ""


@dataclass(frozen=True)
class PredictionActivity:
    """How many predictions one model version made through one deployment, and when (the
    first and last prediction's times)."""

    model_name: str
    model_version: int
    deployment: str
    count: int
    first: datetime
    last: datetime


@dataclass(frozen=True)
class Feedback:
    """Ground truth for an earlier prediction, joined to it by ``request_id``."""

    request_id: str
    label: Any
    time: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class MonitorReport:
    """The summary of one monitoring window; the full HTML/JSON report is an artifact."""

    id: int
    time: datetime
    project: str
    model_name: str | None
    model_version: int | None
    window: dict[str, Any]
    summary: dict[str, Any]
    artifact: str | None = None


@dataclass(frozen=True)
class AlertRecord:
    """One alert that fired: which rule, on what value, sent to which channels.

    ``fingerprint`` identifies "the same alert" (rule, model and metric) for de-duplication:
    a rule whose fingerprint fired within its cooldown is not sent again.
    """

    id: int
    time: datetime
    project: str
    rule: str
    severity: str
    metric: str
    value: float | None
    threshold: float | None
    message: str
    fingerprint: str
    channels: list[str] = field(default_factory=list)
    model_name: str | None = None
    model_version: int | None = None
