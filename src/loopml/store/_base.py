"""The metadata store's contract.

A :class:`MetadataStore` is a set of small stores, one per noun, that share one database. Every
backend (SQLite, PostgreSQL, …) implements these interfaces and passes the shared conformance suite
in :mod:`loopml.testing.store_conformance` with no special cases.

Contract common to every method:
- Writes are transactional: a method either commits everything it was asked to write or nothing,
  and raises.
- Methods are safe to call from several threads and several processes on the same store.
- Backend errors are translated at this boundary: a missing record raises
  :class:`~loopml.errors.NotFoundError`, a duplicate identity
  :class:`~loopml.errors.AlreadyExistsError`, a connection or lock failure that outlasts the retry
  policy :class:`~loopml.errors.StoreError` (raised ``from`` the original).
- Returned records are the value objects of :mod:`loopml.store._records`; times are UTC.
"""

from __future__ import annotations

import abc
import builtins
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from loopml.store._records import (
    AlertRecord,
    Approval,
    AuditEvent,
    DatasetVersion,
    Deployment,
    Feedback,
    MetricPoint,
    ModelStage,
    ModelVersion,
    MonitorReport,
    PredictionActivity,
    PredictionRecord,
    Run,
    RunStatus,
)


class DatasetStore(abc.ABC):
    """Dataset versions."""

    @abc.abstractmethod
    def add(self, version: DatasetVersion) -> DatasetVersion:
        """Record ``version``; idempotent on ``(project, content_hash)``.

        Returns the stored record: the existing one when the same content was ingested before.
        """

    @abc.abstractmethod
    def get(self, project: str, version_id: str) -> DatasetVersion:
        """The version whose id is ``version_id`` or starts with it (a unique prefix).

        Raises:
            NotFoundError: no version matches, or the prefix is ambiguous.
        """

    @abc.abstractmethod
    def list(self, project: str) -> list[DatasetVersion]:
        """Every version of ``project``, oldest first."""

    def latest(self, project: str) -> DatasetVersion | None:
        """The newest version of ``project``, or None when nothing was ingested."""
        versions = self.list(project)
        return versions[-1] if versions else None


class RunStore(abc.ABC):
    """Tracked runs, their params, metrics (with history), tags and artifacts.

    Write-behind barrier: a process that buffers run writes (:mod:`loopml.tracking` creates a
    run's row together with its first batch) installs a callable with :meth:`set_barrier`. Every
    method that names a run calls it with that id (``list``/``search`` with None) before touching
    the database, so the process reads its own writes: a buffered run is created first.
    """

    _barrier: Callable[[str | None], None] | None = None

    def set_barrier(self, barrier: Callable[[str | None], None] | None) -> None:
        """Install (or with None remove) the write-behind barrier described above."""
        self._barrier = barrier

    def _pass_barrier(self, run_id: str | None) -> None:
        """Backends call this first in ``log_batch``, ``end``, ``get``, ``list``,
        ``metric_history``, ``search`` and (with the parent id) ``create``."""
        if self._barrier is not None:
            self._barrier(run_id)

    @abc.abstractmethod
    def create(
        self,
        project: str,
        name: str,
        kind: str,
        *,
        parent_id: str | None = None,
        dataset_id: str | None = None,
        tags: dict[str, str] | None = None,
        run_id: str | None = None,
        start_time: datetime | None = None,
        params: dict[str, Any] | None = None,
        metrics: Sequence[MetricPoint] = (),
        artifacts: dict[str, str] | None = None,
        end_status: RunStatus | None = None,
    ) -> Run:
        """Start a run in status ``running`` (a fresh UUID hex id unless ``run_id`` is given),
        started at ``start_time`` (default now).

        ``params``, ``metrics`` and ``artifacts`` are logged, and with ``end_status`` the run is
        ended, in the same transaction, as :meth:`log_batch` would (one round trip for a whole
        short run). Returns the stored run.

        Raises:
            AlreadyExistsError: ``run_id`` is taken.
            NotFoundError: ``parent_id`` does not exist.
            InvalidInputError: ``run_id`` is empty or longer than 64 characters, or
                ``end_status`` is not ``finished``/``failed``.
        """

    @abc.abstractmethod
    def log_batch(
        self,
        run_id: str,
        *,
        params: dict[str, Any] | None = None,
        metrics: Sequence[MetricPoint] = (),
        tags: dict[str, Any] | None = None,
        artifacts: dict[str, str] | None = None,
        end_status: RunStatus | None = None,
    ) -> None:
        """Add params (values stored as strings; re-logging a param with another value raises
        InvalidInputError), metric points, tags (overwrite) and artifacts (name -> digest) in one
        transaction; with ``end_status`` also end the run (as :meth:`end`) in that transaction.

        Raises:
            NotFoundError: no such run.
            InvalidInputError: a param already logged with a different value, or ``end_status``
                is not ``finished``/``failed``.
        """

    @abc.abstractmethod
    def end(self, run_id: str, status: RunStatus = "finished") -> Run:
        """Mark the run finished or failed and stamp its end time.

        Raises:
            NotFoundError: no such run.
        """

    @abc.abstractmethod
    def get(self, run_id: str) -> Run:
        """The run whose id is ``run_id`` or starts with it (a unique prefix of 6+ characters).

        Raises:
            NotFoundError: no run matches, or the prefix is ambiguous.
        """

    @abc.abstractmethod
    def list(
        self,
        project: str,
        *,
        kind: str | None = None,
        parent_id: str | None = None,
        dataset_id: str | None = None,
        limit: int | None = None,
    ) -> list[Run]:
        """Runs of ``project`` matching every given filter, newest first."""

    @abc.abstractmethod
    def metric_history(self, run_id: str, key: str) -> builtins.list[MetricPoint]:
        """Every point logged for ``key`` in ``run_id``, by step then time.

        Raises:
            NotFoundError: no such run.
        """

    @abc.abstractmethod
    def search(
        self,
        project: str,
        filter: str | None = None,
        *,
        order_by: builtins.list[str] | None = None,
        limit: int | None = None,
    ) -> builtins.list[Run]:
        """Runs of ``project`` matching ``filter``, in ``order_by`` order then newest first.

        ``filter`` is the run search language of :mod:`loopml.store._run_filter`, e.g.
        ``metrics.roc_auc > 0.8 and params.family = 'lightgbm'``; it is parsed by loopml and
        compiled into bound parameters (never pasted into SQL). ``order_by`` holds keys such as
        ``metrics.roc_auc`` (highest first unless ``asc``) or ``start_time asc``; runs without an
        ordering metric come last.

        Raises:
            InvalidInputError: the filter or an order key does not parse (the message names the
                position and what was expected), or ``limit`` is not positive.
        """


class ModelStore(abc.ABC):
    """The registry's persistence: model versions and aliases.

    Every state change also appends an :class:`AuditEvent` (in the same transaction) with the
    given ``actor`` and ``reason``.
    """

    @abc.abstractmethod
    def create_version(
        self,
        name: str,
        *,
        artifact: str,
        task: str,
        run_id: str | None = None,
        dataset_id: str | None = None,
        metrics: dict[str, float] | None = None,
        signature: dict[str, Any] | None = None,
        gates: list[dict[str, Any]] | None = None,
        description: str = "",
        actor: str = "loopml",
    ) -> ModelVersion:
        """Register a new version of ``name``; versions number 1, 2, 3, … per name, assigned
        atomically even under concurrent registration."""

    @abc.abstractmethod
    def get_version(self, name: str, version: int) -> ModelVersion:
        """Raises NotFoundError (naming the known versions) when absent."""

    @abc.abstractmethod
    def list_versions(self, name: str | None = None) -> list[ModelVersion]:
        """Versions of ``name`` (or of every model), by name then version, with their aliases."""

    @abc.abstractmethod
    def list_names(self) -> list[str]:
        """Names of every registered model, sorted."""

    @abc.abstractmethod
    def update_version(
        self,
        name: str,
        version: int,
        *,
        stage: ModelStage | None = None,
        gates: list[dict[str, Any]] | None = None,
        metrics: dict[str, float] | None = None,
        actor: str = "loopml",
        reason: str = "",
    ) -> ModelVersion:
        """Change a version's stage, gate results or metrics (metrics are merged).

        Raises:
            NotFoundError: no such version.
        """

    @abc.abstractmethod
    def set_alias(
        self,
        name: str,
        alias: str,
        version: int,
        *,
        actor: str = "loopml",
        reason: str = "",
        details: dict[str, Any] | None = None,
    ) -> int | None:
        """Point ``name@alias`` at ``version``; returns the version it pointed at before (or None).

        The ``alias.set`` audit event's details hold ``version`` and ``previous`` plus every
        entry of ``details`` (e.g. the governance checks that allowed the move).

        Raises:
            NotFoundError: no such version.
        """

    @abc.abstractmethod
    def delete_alias(
        self, name: str, alias: str, *, actor: str = "loopml", reason: str = ""
    ) -> None:
        """Remove ``name@alias``. Raises NotFoundError when it does not exist."""

    @abc.abstractmethod
    def get_alias(self, name: str, alias: str) -> int:
        """The version ``name@alias`` points at.

        Raises:
            NotFoundError: no such alias (the message lists the model's aliases).
        """

    @abc.abstractmethod
    def aliases(self, name: str) -> dict[str, int]:
        """Every alias of ``name`` with its version."""

    @abc.abstractmethod
    def add_approval(
        self,
        name: str,
        version: int,
        *,
        approver: str,
        reason: str,
        details: dict[str, Any] | None = None,
    ) -> Approval:
        """Record ``approver``'s approval of ``name:version`` (audited as ``model.approve`` in the
        same transaction) and return it with its id and time.

        Raises:
            NotFoundError: no such version.
            InvalidInputError: ``approver`` or ``reason`` is empty.
        """

    @abc.abstractmethod
    def approvals(self, name: str, version: int | None = None) -> builtins.list[Approval]:
        """Approvals of ``name`` (of one version when given), oldest first."""


class AuditLog(abc.ABC):
    """Append-only history of changes."""

    @abc.abstractmethod
    def append(
        self,
        actor: str,
        action: str,
        target: str,
        *,
        reason: str = "",
        details: dict[str, Any] | None = None,
    ) -> AuditEvent:
        """Append one event and return it (with its id and time)."""

    @abc.abstractmethod
    def list(self, *, target: str | None = None, limit: int | None = None) -> list[AuditEvent]:
        """Events, oldest first; ``target`` matches exactly or as a prefix followed by ``:``/``@``
        (``churn`` matches ``churn:3`` and ``churn@champion``)."""


class DeploymentStore(abc.ABC):
    """Named deployments and their routing policies."""

    @abc.abstractmethod
    def put(
        self,
        name: str,
        policy: dict[str, Any],
        *,
        actor: str = "loopml",
        reason: str = "",
        if_updated_at: datetime | None = None,
    ) -> Deployment:
        """Create or replace a deployment's policy (audited).

        Raises:
            ConflictError: ``if_updated_at`` is given and the stored policy was not put at that
                time (someone changed it since it was read; nothing is written).
        """

    @abc.abstractmethod
    def get(self, name: str) -> Deployment:
        """Raises NotFoundError (naming the known deployments) when absent."""

    @abc.abstractmethod
    def list(self) -> list[Deployment]:
        """Every deployment, by name."""

    @abc.abstractmethod
    def report_requests(
        self,
        name: str,
        policy_time: datetime,
        worker: str,
        counts: dict[str, tuple[int, int]],
    ) -> None:
        """Record one serving worker's ``{arm: (requests, failures)}`` totals for the policy
        of deployment ``name`` put at ``policy_time``; a later report of the same worker
        replaces its earlier one. A report for a policy replaced since (or a deployment that
        does not exist) is ignored, and :meth:`put` starts every count again from zero."""

    @abc.abstractmethod
    def request_counts(self, name: str, policy_time: datetime) -> dict[str, tuple[int, int]]:
        """``{arm: (requests, failures)}`` summed over every worker's latest report for the
        policy of ``name`` put at ``policy_time``; empty when none reported."""


class PredictionStore(abc.ABC):
    """The prediction log and the ground truth that arrives later."""

    @abc.abstractmethod
    def add(self, records: Sequence[PredictionRecord]) -> int:
        """Append records in one transaction; returns how many were written.

        Raises:
            AlreadyExistsError: a ``request_id`` is already logged (nothing is written).
        """

    @abc.abstractmethod
    def get(self, request_id: str) -> PredictionRecord:
        """Raises NotFoundError when no prediction has that id."""

    @abc.abstractmethod
    def list(
        self,
        *,
        model_name: str | None = None,
        model_version: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> list[PredictionRecord]:
        """Records matching every filter, oldest first.

        ``since`` is inclusive, ``until`` exclusive.
        """

    @abc.abstractmethod
    def activity(
        self, *, model_name: str | None = None, model_version: int | None = None
    ) -> builtins.list[PredictionActivity]:
        """Prediction counts per model version and deployment (of one model or version when
        given), by model name, version, then deployment; computed in the database."""

    @abc.abstractmethod
    def add_feedback(self, items: Sequence[Feedback]) -> int:
        """Store ground truth; a later label for the same request id replaces the earlier one.

        Raises:
            NotFoundError: a request id has no prediction (nothing is written).
        """

    @abc.abstractmethod
    def feedback(self, request_ids: Sequence[str] | None = None) -> dict[str, Feedback]:
        """Ground truth by request id (all of it when ``request_ids`` is None)."""


class MonitorStore(abc.ABC):
    """Monitoring report summaries."""

    @abc.abstractmethod
    def add(
        self,
        project: str,
        *,
        window: dict[str, Any],
        summary: dict[str, Any],
        model_name: str | None = None,
        model_version: int | None = None,
        artifact: str | None = None,
    ) -> MonitorReport:
        """Store one report summary and return it with its id and time."""

    @abc.abstractmethod
    def list(
        self, project: str, *, model_name: str | None = None, limit: int | None = None
    ) -> list[MonitorReport]:
        """Reports of ``project`` (optionally of one model), newest first."""


class AlertStore(abc.ABC):
    """The history of alerts that fired (the ``alerts`` table)."""

    @abc.abstractmethod
    def add(
        self,
        project: str,
        *,
        rule: str,
        severity: str,
        metric: str,
        value: float | None,
        threshold: float | None,
        message: str,
        fingerprint: str,
        channels: Sequence[str] = (),
        model_name: str | None = None,
        model_version: int | None = None,
        time: datetime | None = None,
    ) -> AlertRecord:
        """Record one alert (at ``time``, default now) and return it with its id."""

    @abc.abstractmethod
    def list(
        self,
        project: str,
        *,
        rule: str | None = None,
        model_name: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> builtins.list[AlertRecord]:
        """Alerts of ``project`` matching every filter, newest first (``since`` inclusive)."""

    @abc.abstractmethod
    def last(self, fingerprint: str) -> AlertRecord | None:
        """The newest alert with ``fingerprint``, or None when it never fired."""


class MetadataStore(abc.ABC):
    """All metadata of loopml projects, one sub-store per noun over one database.

    Construct with :func:`loopml.store.open_store`. ``close()`` releases connections; a store is
    also a context manager.
    """

    datasets: DatasetStore
    runs: RunStore
    models: ModelStore
    audit: AuditLog
    deployments: DeploymentStore
    predictions: PredictionStore
    monitoring: MonitorStore
    alerts: AlertStore

    @property
    @abc.abstractmethod
    def url(self) -> str:
        """The store's URL with any password masked."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections. Further calls are undefined."""

    def __enter__(self) -> MetadataStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ArtifactStore(abc.ABC):
    """Content-addressed blobs: a blob's name is the SHA-256 hex digest of its bytes.

    Reads verify the digest; a mismatch raises ArtifactIntegrityError and returns nothing.
    Writes are atomic (a reader never sees a partial blob) and idempotent.
    """

    @abc.abstractmethod
    def put_bytes(self, data: bytes) -> str:
        """Store ``data``; returns its digest."""

    @abc.abstractmethod
    def put_file(self, path: str) -> str:
        """Store the file at ``path`` (streamed, not read whole); returns its digest."""

    @abc.abstractmethod
    def get_bytes(self, digest: str) -> bytes:
        """The verified bytes.

        Raises:
            NotFoundError: no blob with that digest.
            ArtifactIntegrityError: the stored bytes no longer hash to ``digest``.
        """

    @abc.abstractmethod
    def local_path(self, digest: str, *, verify: bool = True) -> str:
        """A local file path holding the blob (verified first unless ``verify=False``).

        Raises:
            NotFoundError, ArtifactIntegrityError: as :meth:`get_bytes`.
        """

    @abc.abstractmethod
    def exists(self, digest: str) -> bool:
        """Whether a blob with that digest is stored."""

    @abc.abstractmethod
    def delete(self, digest: str) -> None:
        """Remove a blob (no error if absent)."""

    @abc.abstractmethod
    def list(self) -> list[str]:
        """Every stored digest."""
