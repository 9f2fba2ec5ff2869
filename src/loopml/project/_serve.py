"""``loopml serve``: the registry behind the serving app, with alias changes picked up live."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI

from loopml.data import read_snapshot
from loopml.errors import InvalidInputError, LoopmlError
from loopml.project._deploy import advance
from loopml.project._deploy_admin import ProjectDeploymentAdmin
from loopml.project._project import Project
from loopml.project._scheduled import attach_schedule, prediction_log_monitor
from loopml.project._train import HOLDOUT_ARTIFACT
from loopml.registry import CHAMPION
from loopml.retrain import cron_trigger
from loopml.serve import (
    ArmCounters,
    BackgroundPredictionLogger,
    CompiledDeployment,
    DeploymentResolver,
    LoadedModel,
    ModelResolver,
    Package,
    StoreFeedbackSink,
    compile_policy,
    create_app,
    unknown_deployment_error,
    unknown_model_error,
    write_package,
)
from loopml.serve._admin import admin_token as read_admin_token
from loopml.serve._admin import enable_admin
from loopml.serve._compiled_predictor import BACKENDS
from loopml.serve._interfaces import MAX_BACKGROUND_ROWS
from loopml.store import ModelVersion

logger = logging.getLogger(__name__)


def load_served_model(
    project: Project, name: str, version: ModelVersion, backend: str = "sklearn"
) -> LoadedModel:
    """Load ``version`` (hash-verified) for serving under ``name`` on ``backend`` (``sklearn``
    or ``onnx``), with the holdout rows stored with its run as the background sample that
    ``?explain=true`` needs for linear models and that the fast scoring paths are verified on."""
    _version, bundle = project.registry.load(version.ref)
    background = None
    if version.run_id is not None:
        digest = project.store.runs.get(version.run_id).artifacts.get(HOLDOUT_ARTIFACT)
        if digest is not None:
            background = bundle.features(read_snapshot(project.artifacts.get_bytes(digest)))
    return LoadedModel(
        name=name, version=version.version, bundle=bundle, background=background, backend=backend
    )


class RegistryResolver(ModelResolver):
    """Serves registry references under names, e.g. ``{"churn": "churn@champion"}``.

    Every reference is loaded (and its artifact hash verified) at construction and on
    :meth:`refresh`; a reference that fails to load is remembered with its error, so the other
    models keep serving and ``/ready`` can say which failed. A refresh swaps the whole table in one
    assignment, so a request never sees a half-updated table.
    """

    def __init__(
        self, project: Project, refs: Mapping[str, str], *, backend: str = "sklearn"
    ) -> None:
        self._project = project
        self._backend = backend
        self._registry = project.registry
        self._refs = dict(refs)
        self._lock = threading.Lock()
        self._table: dict[str, LoadedModel | LoopmlError] = {}
        self.refresh()

    def resolve(self, name: str) -> LoadedModel:
        entry = self._table.get(name)
        if entry is None:
            raise unknown_model_error(name, self.names())
        if isinstance(entry, LoopmlError):
            raise entry
        return entry

    def names(self) -> list[str]:
        return sorted(self._refs)

    def refresh(self) -> None:
        with self._lock:
            table = dict(self._table)
            for name, ref in self._refs.items():
                table[name] = self._load(name, ref, table.get(name))
            self._table = table

    def _load(
        self, name: str, ref: str, current: LoadedModel | LoopmlError | None
    ) -> LoadedModel | LoopmlError:
        try:
            version = self._registry.get(ref)
            if isinstance(current, LoadedModel) and current.version == version.version:
                return current
            return load_served_model(self._project, name, version, self._backend)
        except LoopmlError as exc:
            if isinstance(current, LoadedModel):
                return current
            return exc


class StoreDeploymentResolver(DeploymentResolver):
    """Serves the deployments of ``store.deployments``, reloaded on :meth:`refresh`.

    A refresh first reports this worker's per-arm request and failure counts to the store, runs
    the rollout controller (:func:`~loopml.project.advance`) on running canaries and A/B tests,
    then recompiles every deployment: model versions already loaded are reused, a deployment
    that fails to load keeps its previous table (or its error is served), and the whole table
    is swapped in one assignment. Per-arm counters restart when a deployment's policy changes,
    so guardrails always judge the current step.
    """

    def __init__(
        self,
        project: Project,
        counters: ArmCounters,
        *,
        run_controller: bool = True,
        backend: str = "sklearn",
    ) -> None:
        self._project = project
        self._backend = backend
        self._counters = counters
        self._run_controller = run_controller
        self._lock = threading.Lock()
        self._models: dict[tuple[str, int], LoadedModel] = {}
        self._versions: dict[str, datetime] = {}
        self._table: dict[str, CompiledDeployment | LoopmlError] = {}
        self.refresh()

    def get(self, name: str) -> CompiledDeployment:
        entry = self._table.get(name)
        if entry is None:
            raise unknown_deployment_error(name, self.names())
        if isinstance(entry, LoopmlError):
            raise entry
        return entry

    def names(self) -> list[str]:
        return sorted(self._table)

    def refresh(self) -> None:
        with self._lock:
            store = self._project.store
            try:  # this worker's counts first, so that the controller judges fresh ones
                self._counters.report(store.deployments)
            except LoopmlError:
                logger.exception("Reporting request counts to the store failed")
            if self._run_controller:
                for deployment in store.deployments.list():
                    if deployment.policy.get("status") == "running":
                        try:
                            advance(self._project, deployment.name, self._counters)
                        except LoopmlError:
                            logger.exception("Advancing deployment %s failed", deployment.name)
            table: dict[str, CompiledDeployment | LoopmlError] = {}
            for deployment in store.deployments.list():
                name = deployment.name
                if self._versions.get(name) != deployment.updated_at:
                    self._counters.reset(name, deployment.updated_at)
                    self._versions[name] = deployment.updated_at
                try:
                    table[name] = self._compile(name, deployment.policy)
                except LoopmlError as exc:
                    current = self._table.get(name)
                    table[name] = current if isinstance(current, CompiledDeployment) else exc
            self._table = table

    def _compile(self, name: str, policy: dict[str, object]) -> CompiledDeployment:
        _, arms = compile_policy(policy)
        models: dict[str, LoadedModel] = {}
        for ref in arms.values():
            version = self._project.registry.get(ref)
            key = (version.name, version.version)
            if key not in self._models:
                self._models[key] = load_served_model(
                    self._project, version.name, version, self._backend
                )
            models[ref] = self._models[key]
        return CompiledDeployment.build(name, policy, models)


def build_app(
    project: Project,
    *,
    models: Mapping[str, str] | None = None,
    log_predictions: bool = True,
    refresh_interval: float = 5.0,
    deployments: bool = True,
    monitor_schedule: str | None = None,
    monitor_window: str | None = None,
    admin_token: str | None = None,
    backend: str = "sklearn",
    monitor: bool = True,
) -> FastAPI:
    """The serving app of ``project``: by default its champion under the project's name.

    Predictions are logged to the project's store by a background writer (flushed on shutdown);
    aliases are re-resolved every ``refresh_interval`` seconds so a promotion takes effect without
    a restart. Deployments of the project's store are served at
    ``/v1/deployments/{name}/predict`` (and reloaded, with their rollouts advanced, on the same
    interval) unless ``deployments`` is False; feedback goes to the store. With a
    ``monitor_schedule`` (cron, UTC; default: the charter's ``monitoring.schedule``) the prediction
    log is monitored on that schedule inside the server, alerts included (never when ``monitor``
    is False). Models are scored on ``backend``: ``sklearn`` (compiled numpy code where verified,
    else the pipeline) or ``onnx`` (ONNX Runtime, else sklearn; ``GET /ready`` says which).

    The admin API (``/admin/…``, see :mod:`loopml.serve._admin`) is enabled with
    ``admin_token`` (default: ``$LOOPML_ADMIN_TOKEN``).

    Raises:
        InvalidInputError: the schedule is not a crontab expression, or ``backend`` is unknown.
    """
    if backend not in BACKENDS:
        raise InvalidInputError(
            f"The 'backend' parameter must be one of {', '.join(BACKENDS)}. Got {backend!r}.",
            hint="Use --backend sklearn or --backend onnx.",
        )
    refs = dict(models or {project.name: f"{project.name}@{CHAMPION}"})
    resolver = RegistryResolver(project, refs, backend=backend)
    sink = BackgroundPredictionLogger(project.store) if log_predictions else None
    counters = ArmCounters()
    routed = StoreDeploymentResolver(project, counters, backend=backend) if deployments else None
    app = create_app(
        resolver,
        sink,
        feedback=StoreFeedbackSink(project.store),
        deployments=routed,
        arm_counters=counters,
        refresh_interval=refresh_interval if refresh_interval > 0 else None,
    )
    token = admin_token if admin_token is not None else read_admin_token()
    enable_admin(app, ProjectDeploymentAdmin(project, counters), token)
    schedule = monitor_schedule or project.charter.monitoring.schedule
    if schedule and monitor:
        window = monitor_window or project.charter.monitoring.window
        job = prediction_log_monitor(project.paths.root, window=window)
        attach_schedule(app, job, cron_trigger(schedule))
    return app


def package(project: Project, ref: str, folder: str | Path, *, port: int = 8000) -> Package:
    """Write a Dockerfile, pinned requirements, Kubernetes manifests and the verified model
    artifact of ``ref`` into ``folder`` (see :func:`loopml.serve.write_package`).

    Raises:
        NotFoundError: unknown model, or its artifact is missing.
        ArtifactIntegrityError: the artifact was modified after registration.
        AlreadyExistsError: ``folder`` is not empty.
    """
    version = project.registry.get(ref)
    data = project.artifacts.get_bytes(version.artifact)
    target = Path(folder).expanduser().resolve()
    background = _packaged_background(project, version)
    return write_package(
        data, target, name=version.name, version=version.version, port=port, background=background
    )


def _packaged_background(project: Project, version: ModelVersion) -> bytes | None:
    """Parquet bytes of up to MAX_BACKGROUND_ROWS holdout rows (input columns) of ``version``'s
    run, as ``loopml serve`` loads them; None when the run stored no holdout."""
    if version.run_id is None:
        return None
    digest = project.store.runs.get(version.run_id).artifacts.get(HOLDOUT_ARTIFACT)
    if digest is None:
        return None
    _version, bundle = project.registry.load(version.ref)
    rows = bundle.features(read_snapshot(project.artifacts.get_bytes(digest)))
    if len(rows) > MAX_BACKGROUND_ROWS:
        rows = rows.sample(n=MAX_BACKGROUND_ROWS, random_state=0)
    return rows.to_parquet(index=False)
