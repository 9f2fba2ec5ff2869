"""``loopml monitor``: drift and data quality of a current window against a model's reference."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from loopml.data import read_table
from loopml.errors import DataError, NotFoundError
from loopml.monitor import AUTO, DriftReport, ReferenceProfile, compute_drift
from loopml.project._project import Project, user_path
from loopml.store import ModelVersion, PredictionRecord


@dataclass
class MonitorOutcome:
    report: DriftReport
    report_html: Path
    report_json: Path

    def to_dict(self) -> dict[str, Any]:
        return {**self.report.to_dict(), "report": str(self.report_html)}


def reference_profile(project: Project, model: ModelVersion) -> ReferenceProfile:
    """The reference statistics stored with ``model`` at training time.

    Raises:
        NotFoundError: the version has no stored reference profile.
    """
    run = project.store.runs.get(model.run_id) if model.run_id else None
    digest = run.artifacts.get("reference_profile") if run else None
    if digest is None:
        raise NotFoundError(
            f"Model {model.ref} has no reference profile to monitor against.",
            hint="Pass --reference FILE to compare with a file instead.",
        )
    return ReferenceProfile.from_dict(json.loads(project.artifacts.get_bytes(digest)))


def prediction_log_frame(records: list[PredictionRecord]) -> pd.DataFrame:
    """Logged predictions as one frame: the inputs' columns plus the outputs' columns."""
    rows = [{**record.inputs, **record.outputs} for record in records]
    return pd.DataFrame.from_records(rows)


def _report_dir(project: Project) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    return project.paths.reports / f"monitor-{stamp}"


def monitor_files(reference: str | Path, current: str | Path, out_dir: Path) -> MonitorOutcome:
    """Ad-hoc drift between two files; needs no project or model."""
    report = compute_drift(
        read_table(reference),
        read_table(current),
        window={"reference": str(reference), "current": str(current)},
    )
    html_path, json_path = report.write(out_dir)
    return MonitorOutcome(report, html_path, json_path)


def monitor(
    project: Project,
    *,
    ref: str | None = None,
    current: str | Path | None = None,
    reference: str | Path | None = None,
    last: int | None = None,
    since: datetime | None = None,
) -> MonitorOutcome:
    """Compare a current window with a reference and store the summary.

    The current window is the file ``current``, or else the prediction log of the model (its
    ``last`` records, or those ``since`` a time). The reference is the file ``reference``, or else
    the statistics stored with the model (default: the champion) at training time.

    Raises:
        NotFoundError: no model to monitor, or no reference profile.
        DataError: the current window is empty.
    """
    model = project.registry.get(ref or project.name)
    contract = None
    if current is not None:
        current_frame = read_table(user_path(current))
        window: dict[str, Any] = {"kind": "file", "path": str(user_path(current))}
        _model_version, bundle = project.registry.load(model.ref)
        contract = bundle.contract
        features = bundle.features(current_frame)
        current_frame = pd.concat([features, bundle.predict_frame(current_frame)], axis=1)
    else:
        records = project.store.predictions.list(
            model_name=model.name, model_version=model.version, since=since
        )
        if last is not None:
            records = records[-last:]
        if not records:
            raise DataError(
                f"No predictions of {model.ref} are logged for this window.",
                hint="Serve the model and send traffic, or pass --current FILE.",
            )
        current_frame = prediction_log_frame(records)
        window = {
            "kind": "prediction_log",
            "records": len(records),
            "start": records[0].time.isoformat(),
            "end": records[-1].time.isoformat(),
        }
    settings = project.charter.monitoring
    baseline: pd.DataFrame | ReferenceProfile
    if reference is not None:
        baseline = read_table(user_path(reference))
        window["reference"] = str(user_path(reference))
    else:
        baseline = reference_profile(project, model)
        window["reference"] = f"training data of {model.ref}"
    report = compute_drift(
        baseline,
        current_frame,
        contract=contract or project.contract(),
        tests=settings.tests or None,
        numeric_test=settings.numeric_test or AUTO,
        categorical_test=settings.categorical_test or AUTO,
        drift_share=settings.drift_share,
        model=model.ref,
        window=window,
    )
    html_path, json_path = report.write(_report_dir(project))
    summary = report.to_dict()
    project.store.monitoring.add(
        project.name,
        window=window,
        summary={k: summary[k] for k in ("share_drifted", "dataset_drift") if k in summary}
        | {"drifted": [c for c, f in summary["features"].items() if f["drifted"]]},
        model_name=model.name,
        model_version=model.version,
        artifact=project.artifacts.put_file(str(json_path)),
    )
    return MonitorOutcome(report, html_path, json_path)
