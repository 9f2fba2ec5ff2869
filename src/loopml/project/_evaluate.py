"""``loopml evaluate``: the evaluation report of a model version on its holdout or on a file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from loopml.errors import NotFoundError
from loopml.evaluate import EvaluationReport, GateResult, evaluate_model
from loopml.project._ingest import load_dataset, read_source
from loopml.project._prepare import prepare
from loopml.project._project import Project, user_path
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
    """The holdout the version was evaluated on at training time (recomputed exactly)."""
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
    aliases = project.registry.aliases(model.name)
    return EvaluationOutcome(
        model=model,
        report=report,
        champion=aliases.get(CHAMPION) == model.version,
        data=label,
        report_html=html_path,
        report_json=json_path,
    )
