"""``loopml evaluate``: the evaluation report of a model version on its holdout or on a file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from loopml.data import read_snapshot
from loopml.errors import LoopmlError, NotFoundError
from loopml.evaluate import EvaluationReport, GateResult, ModelCard, evaluate_model
from loopml.project._ingest import load_dataset, read_source
from loopml.project._prepare import prepare
from loopml.project._project import Project, user_path
from loopml.project._train import HOLDOUT_ARTIFACT
from loopml.registry import CHAMPION
from loopml.store import ModelVersion
from loopml.train import ModelBundle


@dataclass
class EvaluationOutcome:
    model: ModelVersion
    report: EvaluationReport
    champion: bool
    data: str
    report_html: Path
    report_json: Path
    card_md: Path | None = None
    card_html: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model.ref,
            "run_id": self.model.run_id,
            "metrics": self.report.metrics,
            "champion": self.champion,
            "data": self.data,
            "n_rows": self.report.n_rows,
            "gates": self.model.gates,
            "report": str(self.report_html),
            "model_card": str(self.card_md) if self.card_md else None,
        }


def newest_ref(project: Project) -> str:
    """``name:N`` of the newest registered version of the project's model.

    Raises:
        NotFoundError: nothing is registered yet.
    """
    versions = project.registry.list(project.name)
    if not versions:
        raise NotFoundError(
            f"No version of model {project.name!r} is registered yet.",
            hint="Run `loopml train` first.",
        )
    return versions[-1].ref


def holdout_of(project: Project, model: ModelVersion, bundle: ModelBundle) -> pd.DataFrame:
    """The rows the version was evaluated on when it was registered.

    They are stored with its training run; for versions registered without them, the holdout is
    cut again from its dataset version with the charter's split.
    """
    run = project.store.runs.get(model.run_id) if model.run_id else None
    digest = run.artifacts.get(HOLDOUT_ARTIFACT) if run else None
    if digest is not None:
        return read_snapshot(project.artifacts.get_bytes(digest))
    _version, frame = load_dataset(project, model.dataset_id)
    return prepare(project, frame, bundle.contract, label=f"holdout-{model.ref}").holdout


def evaluate(
    project: Project, ref: str | None = None, *, data: str | Path | None = None
) -> EvaluationOutcome:
    """Evaluate ``ref`` (default: the newest version) on ``data`` (default: its holdout).

    Raises:
        NotFoundError: no such model, or nothing is registered yet.
        DataError: ``data`` lacks the target or the model's feature columns.
    """
    model, bundle = project.registry.load(ref or newest_ref(project))
    if data is not None:
        frame, _source = read_source(project, data)
        label = str(user_path(data))
    else:
        frame = holdout_of(project, model, bundle)
        label = f"holdout of dataset {model.dataset_id}"
    report = evaluate_model(
        bundle,
        frame,
        model_ref=model.ref,
        dataset_id=model.dataset_id,
        gates=[GateResult.from_dict(g) for g in model.gates],
    )
    out_dir = project.paths.reports / f"{model.name}-v{model.version}"
    html_path, json_path = report.write(out_dir)
    card_md, card_html = model_card(project, model, bundle, report).write(out_dir)
    aliases = project.registry.aliases(model.name)
    return EvaluationOutcome(
        model=model,
        report=report,
        champion=aliases.get(CHAMPION) == model.version,
        data=label,
        report_html=html_path,
        report_json=json_path,
        card_md=card_md,
        card_html=card_html,
    )


def _period(project: Project, model: ModelVersion, bundle: ModelBundle) -> tuple[str, str] | None:
    time_column = bundle.contract.time_column
    if time_column is None or model.dataset_id is None:
        return None
    _version, frame = load_dataset(project, model.dataset_id)
    values = pd.to_datetime(frame[time_column.name], errors="coerce").dropna()
    if values.empty:
        return None
    return str(values.min()), str(values.max())


def _drift_prone(project: Project, model: ModelVersion) -> list[str]:
    """Columns that drifted in the latest monitoring windows of this model version."""
    reports = project.store.monitoring.list(project.name, model_name=model.name, limit=20)
    drifted = {
        str(column)
        for r in reports
        if r.model_version in (None, model.version)
        for column in r.summary.get("drifted", [])
    }
    return sorted(drifted)


def model_card(
    project: Project, model: ModelVersion, bundle: ModelBundle, report: EvaluationReport
) -> ModelCard:
    """The model card of ``model``: charter, registry, run lineage and ``report``."""
    charter = project.charter
    tags: dict[str, str] = {}
    params: dict[str, str] = {}
    if model.run_id:
        try:
            run = project.store.runs.get(model.run_id)
            tags, params = run.tags, run.params
        except NotFoundError:
            pass  # a version registered without a tracked run has no lineage to show
    rows: int | None = None
    if model.dataset_id:
        try:
            rows = project.store.datasets.get(project.name, model.dataset_id).n_rows
        except LoopmlError:
            rows = None
    train_rows = params.get("train_rows")
    return ModelCard(
        report=report,
        family=bundle.family,
        problem=charter.problem,
        kpi=charter.kpi,
        metric=charter.metric or tags.get("metric"),
        target=bundle.contract.target,
        dataset_id=model.dataset_id,
        dataset_rows=rows,
        period=_period(project, model, bundle),
        train_rows=int(train_rows) if train_rows and train_rows.isdigit() else None,
        run_id=model.run_id,
        git_commit=tags.get("git_commit"),
        git_dirty=tags.get("git_dirty") == "true" if "git_dirty" in tags else None,
        drift_prone=_drift_prone(project, model),
    )
