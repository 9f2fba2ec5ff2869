"""``loopml lineage``: where something came from, and what was made from it.

Upstream: prediction -> model version -> run -> dataset version -> source (file + SHA-256, or SQL
URL + query), with the run's charter hash, git commit and dirty flag, package versions and seed.
Downstream: from a dataset version every run and model version trained on it (and the versions
derived from it); from a run the model versions it registered; and from any of these (or a model
reference) the predictions made with those model versions: logged predictions counted per model
version and deployment, and batch-prediction runs (``loopml predict``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from loopml.errors import NotFoundError
from loopml.registry import ModelRef
from loopml.store import DatasetVersion, ModelVersion, PredictionRecord, Run

if TYPE_CHECKING:
    from loopml.project._project import Project

LineageKind = Literal["prediction", "model_version", "run", "dataset"]
CHARTER_TAG = "charter_sha256"
"""The run tag that records the SHA-256 of ``loopml.yaml`` at training time."""


@dataclass(frozen=True)
class Lineage:
    """The resolved reference and its lineage as a nested, JSON-able object."""

    reference: str
    kind: LineageKind
    tree: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"reference": self.reference, "kind": self.kind, **self.tree}


def lineage(project: Project, reference: str) -> Lineage:
    """The lineage of ``reference``: a prediction request id, ``NAME:VERSION``, ``NAME@ALIAS``,
    a run id (or unique prefix), a dataset version id (or prefix) or a bare model name.

    Tried in that order; the first kind that matches wins.

    Raises:
        NotFoundError: nothing matches (the message says what was tried), or an explicit model
            reference names a missing model, version or alias.
    """
    text = reference.strip()
    store = project.store
    try:
        record = store.predictions.get(text)
    except NotFoundError:
        pass
    else:
        return Lineage(text, "prediction", {"prediction": _prediction(project, record)})
    if ":" in text or "@" in text:
        version = project.registry.get(ModelRef.parse(text))
        node = _model(project, version, downstream=True)
        return Lineage(text, "model_version", {"model_version": node})
    misses: list[str] = []
    try:
        run = store.runs.get(text)
    except NotFoundError as error:
        misses.append(error.message)
    else:
        return Lineage(text, "run", {"run": _run(project, run, downstream=True)})
    try:
        dataset = store.datasets.get(project.name, text)
    except NotFoundError as error:
        misses.append(error.message)
    else:
        return Lineage(text, "dataset", {"dataset": _dataset(project, dataset, downstream=True)})
    if text in store.models.list_names():
        version = project.registry.get(text)
        node = _model(project, version, downstream=True)
        return Lineage(text, "model_version", {"model_version": node})
    raise NotFoundError(
        f"{text!r} is not a prediction request id, model reference, run id or dataset version "
        f"of project {project.name!r}.",
        hint="Pass a request id, NAME:VERSION, NAME@ALIAS, a run id or a dataset version id "
        "(see `loopml runs list`, `loopml models list`, `loopml data list`).",
        details={"tried": misses},
    )


def _prediction(project: Project, record: PredictionRecord) -> dict[str, Any]:
    node: dict[str, Any] = {
        "request_id": record.request_id,
        "time": record.time.isoformat(),
        "deployment": record.deployment,
        "model": f"{record.model_name}:{record.model_version}",
        "latency_ms": record.latency_ms,
        "outputs": record.outputs,
    }
    try:
        version = project.store.models.get_version(record.model_name, record.model_version)
    except NotFoundError:
        node["model_version"] = None
    else:
        node["model_version"] = _model(project, version)
    return node


def _model(project: Project, version: ModelVersion, *, downstream: bool = False) -> dict[str, Any]:
    store = project.store
    node: dict[str, Any] = {
        "model": version.ref,
        "aliases": list(version.aliases),
        "stage": version.stage,
        "task": version.task,
        "created_at": version.created_at.isoformat(),
        "artifact": version.artifact,
        "metrics": version.metrics,
        "gates_passed": all(g.get("passed") for g in version.gates) if version.gates else None,
        "run": None,
        "dataset": None,
    }
    if version.run_id is not None:
        try:
            node["run"] = _run(project, store.runs.get(version.run_id), downstream=False)
        except NotFoundError:
            node["run"] = {"id": version.run_id, "missing": True}
    if node["run"] is None or node["run"].get("dataset") is None:
        node["dataset"] = _dataset_by_id(project, version.dataset_id)
    if downstream:
        node.update(_predictions_made(project, [version]))
    return node


def _run(project: Project, run: Run, *, downstream: bool) -> dict[str, Any]:
    store = project.store
    node: dict[str, Any] = {
        "id": run.id,
        "name": run.name,
        "kind": run.kind,
        "status": run.status,
        "start_time": run.start_time.isoformat(),
        "parent": None,
        "seed": run.params.get("seed"),
        "git": {"commit": run.tags.get("git_commit"), "dirty": _flag(run.tags.get("git_dirty"))},
        "charter": _charter(project, run),
        "packages": {
            key.removeprefix("package."): value
            for key, value in sorted(run.tags.items())
            if key.startswith("package.")
        },
        "dataset": _dataset_by_id(project, run.dataset_id),
    }
    if run.parent_id is not None:
        parent = store.runs.get(run.parent_id)
        node["parent"] = {"id": parent.id, "name": parent.name, "kind": parent.kind}
    if downstream:
        versions = [v for v in store.models.list_versions() if v.run_id == run.id]
        node["model_versions"] = [v.ref for v in versions]
        node.update(_predictions_made(project, versions))
    return node


def _charter(project: Project, run: Run) -> dict[str, Any]:
    recorded = run.tags.get(CHARTER_TAG)
    if recorded:
        return {"sha256": recorded, "recorded": True}
    path = project.paths.charter
    current = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
    return {"sha256": current, "recorded": False}


def _flag(value: str | None) -> bool | None:
    return None if value is None else value == "true"


def _dataset_by_id(project: Project, dataset_id: str | None) -> dict[str, Any] | None:
    if dataset_id is None:
        return None
    try:
        version = project.store.datasets.get(project.name, dataset_id)
    except NotFoundError:
        return {"id": dataset_id, "missing": True}
    return _dataset(project, version, downstream=False)


def _dataset(project: Project, version: DatasetVersion, *, downstream: bool) -> dict[str, Any]:
    node: dict[str, Any] = {
        "id": version.id,
        "content_hash": version.content_hash,
        "rows": version.n_rows,
        "columns": version.n_columns,
        "created_at": version.created_at.isoformat(),
        "parent": version.parent_id,
        "source": version.source,
    }
    if downstream:
        store = project.store
        runs = store.runs.list(project.name, dataset_id=version.id)
        node["runs"] = [
            {"id": r.id, "name": r.name, "kind": r.kind, "status": r.status}
            for r in runs
            if r.parent_id is None
        ]
        node["child_runs"] = sum(1 for r in runs if r.parent_id is not None)
        versions = [v for v in store.models.list_versions() if v.dataset_id == version.id]
        node["model_versions"] = [v.ref for v in versions]
        node.update(_predictions_made(project, versions))
        node["derived_datasets"] = [
            d.id for d in store.datasets.list(project.name) if d.parent_id == version.id
        ]
    return node


BATCH_PREDICT_KIND = "batch_predict"
"""The run kind of ``loopml predict`` (its ``model`` tag holds the model reference)."""


def _predictions_made(project: Project, versions: list[ModelVersion]) -> dict[str, Any]:
    """What was predicted with ``versions``: logged predictions counted per version and
    deployment (one grouped query per model name), and batch-prediction runs."""
    store = project.store
    refs = {v.ref for v in versions}
    logged: list[dict[str, Any]] = []
    for name in sorted({v.name for v in versions}):
        for item in store.predictions.activity(model_name=name):
            ref = f"{item.model_name}:{item.model_version}"
            if ref in refs:
                logged.append(
                    {
                        "model": ref,
                        "deployment": item.deployment,
                        "count": item.count,
                        "first": item.first.isoformat(),
                        "last": item.last.isoformat(),
                    }
                )
    batches = [
        {
            "id": run.id,
            "model": run.tags.get("model"),
            "status": run.status,
            "start_time": run.start_time.isoformat(),
            "rows": int(run.metrics["rows"]) if "rows" in run.metrics else None,
        }
        for run in store.runs.list(project.name, kind=BATCH_PREDICT_KIND)
        if run.tags.get("model") in refs
    ]
    return {
        "predictions": logged,
        "predictions_total": sum(item["count"] for item in logged),
        "batch_predictions": batches,
    }
