"""``loopml monitor``: drift, data quality, performance and alerts of a current window against a
model's reference."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from loopml.data import DataContract, read_table
from loopml.errors import DataError, NotFoundError
from loopml.monitor import (
    AUTO,
    CBPE,
    DriftReport,
    ReferenceProfile,
    compute_drift,
    domain_classifier_drift,
    join_feedback,
    performance_section,
    raise_alerts,
    realized_performance,
    report_metrics,
)
from loopml.monitor._attribution import attribution_drift, attribution_summary
from loopml.monitor._multivariate import MIN_ROWS_PER_SIDE
from loopml.monitor._target import target_drift
from loopml.monitor._windows import time_window
from loopml.project._ingest import load_dataset
from loopml.project._prepare import split_holdout
from loopml.project._project import Project, user_path
from loopml.store import ModelVersion, PredictionRecord
from loopml.train._bundle import UNSUPERVISED, ModelBundle, probability_column

HISTORY_REPORTS = 30
"""Earlier monitor reports of a model version drawn in the drift-over-time chart."""


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
    """Ad-hoc drift (per feature and multivariate) between two files; needs no project."""
    reference_frame, current_frame = read_table(reference), read_table(current)
    report = compute_drift(
        reference_frame,
        current_frame,
        window={"reference": str(reference), "current": str(current)},
    )
    report.multivariate = _multivariate(reference_frame, current_frame, list(report.features))
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
    until: datetime | None = None,
    window: str | None = None,
    alerts: bool = True,
    now: datetime | None = None,
) -> MonitorOutcome:
    """Compare a current window with a reference, estimate and measure performance, evaluate
    the charter's alert rules, and store the summary.

    The current window is the file ``current``, or else the prediction log of the model: the
    records in ``[since, until)`` or of the most recent ``window`` (``1h``, ``1d``, ``1w``),
    then only the ``last`` N of them. The reference is the file ``reference``, or else the
    statistics stored with the model (default: the champion) at training time. Performance:
    *realized* on the rows whose ground truth arrived (feedback joined by request id, or the
    target column of a ``current`` file); *estimated* without labels (CBPE, classifiers,
    calibrated on the model's holdout). Multivariate drift compares with the training rows.

    Raises:
        NotFoundError: no model to monitor, or no reference profile.
        DataError: the current window is empty.
        InvalidInputError: a bad window.
    """
    model = project.registry.get(ref or project.name)
    start, end = time_window(since=since, until=until, window=window, now=now)
    _model_version, bundle = project.registry.load(model.ref)
    labelled: tuple[pd.DataFrame, list[Any]] | None = None
    operations: dict[str, Any] | None = None
    if current is not None:
        raw = read_table(user_path(current))
        window_info: dict[str, Any] = {"kind": "file", "path": str(user_path(current))}
        outputs = bundle.predict_frame(raw)
        current_frame = pd.concat([bundle.features(raw), outputs], axis=1)
        target = project.charter.target
        if target and target in raw.columns:
            known = raw[target].notna().to_numpy()
            labelled = (outputs[known].reset_index(drop=True), raw[target][known].tolist())
    else:
        records = project.store.predictions.list(
            model_name=model.name, model_version=model.version, since=start, until=end
        )
        if last is not None:
            records = records[-last:]
        if not records:
            raise DataError(
                f"No predictions of {model.ref} are logged for this window.",
                hint="Serve the model and send traffic, widen the window, or pass --current FILE.",
            )
        current_frame = prediction_log_frame(records)
        window_info = {
            "kind": "prediction_log",
            "records": len(records),
            "start": records[0].time.isoformat(),
            "end": records[-1].time.isoformat(),
        }
        window_info |= {"since": start.isoformat()} if start else {}
        window_info |= {"until": end.isoformat()} if end else {}
        window_info |= {"duration": window} if window else {}
        operations = _operations(records)
        labelled = join_feedback(records, project.store.predictions.feedback())
    settings = project.charter.monitoring
    baseline: pd.DataFrame | ReferenceProfile
    if reference is not None:
        baseline = read_table(user_path(reference))
        window_info["reference"] = str(user_path(reference))
    else:
        baseline = reference_profile(project, model)
        window_info["reference"] = f"training data of {model.ref}"
    report = compute_drift(
        baseline,
        current_frame,
        contract=bundle.contract or project.contract(),
        tests=settings.tests or None,
        numeric_test=settings.numeric_test or AUTO,
        categorical_test=settings.categorical_test or AUTO,
        drift_share=settings.drift_share,
        model=model.ref,
        window=window_info,
    )
    training = _training_split(project, model, bundle)
    multivariate_reference = baseline if isinstance(baseline, pd.DataFrame) else None
    if multivariate_reference is None and training is not None:
        multivariate_reference = training[0]
    if multivariate_reference is not None:
        report.multivariate = _multivariate(
            multivariate_reference, current_frame, list(report.features)
        )
    report.operations = operations
    report.performance = _performance(
        bundle, current_frame, labelled, training, project.charter.target
    )
    target_reference = _target_reference(project, model, baseline, bundle.contract)
    if target_reference is not None and labelled is not None:
        report.target_drift = target_drift(
            target_reference,
            labelled[1],
            numeric_test=settings.numeric_test or AUTO,
            categorical_test=settings.categorical_test or AUTO,
        )
    report.attribution_drift = _attribution(bundle, baseline, training, current_frame)
    report.history = _history(project, model)
    if alerts:
        raise_alerts(
            report,
            project.charter.alerts,
            project.store.alerts,
            project=project.name,
            model_name=model.name,
            model_version=model.version,
            now=now,
        )
    html_path, json_path = report.write(_report_dir(project))
    project.store.monitoring.add(
        project.name,
        window=window_info,
        summary=monitor_summary(report),
        model_name=model.name,
        model_version=model.version,
        artifact=project.artifacts.put_file(str(json_path)),
    )
    return MonitorOutcome(report, html_path, json_path)


def monitor_summary(report: DriftReport) -> dict[str, Any]:
    """What the store keeps of a report: every number an alert rule or a retraining trigger
    reads (``report_metrics``), the drifted features, and the alerts that fired."""
    return {
        **report_metrics(report),
        "dataset_drift": report.dataset_drift,
        "drifted": report.drifted_features,
        "alerts": [a["rule"] for a in report.alerts if not a["suppressed"]],
    }


def _operations(records: list[PredictionRecord]) -> dict[str, Any]:
    latency = np.asarray([r.latency_ms for r in records], dtype=np.float64)
    return {
        "requests": len(records),
        "latency_p50_ms": float(np.percentile(latency, 50)),
        "latency_p99_ms": float(np.percentile(latency, 99)),
    }


def _training_split(
    project: Project, model: ModelVersion, bundle: ModelBundle
) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """The rows ``model`` was trained on and its labelled holdout (None when unknown)."""
    if model.dataset_id is None:
        return None
    try:
        _version, frame = load_dataset(project, model.dataset_id)
    except NotFoundError:
        return None
    cut = split_holdout(project, frame.reset_index(drop=True), bundle.contract)
    return frame.iloc[cut.train_index], frame.iloc[cut.test_index]


def _multivariate(
    reference: pd.DataFrame, current: pd.DataFrame, columns: list[str]
) -> dict[str, Any] | None:
    shared = [c for c in columns if c in reference.columns and c in current.columns]
    if not shared or min(len(reference), len(current)) < MIN_ROWS_PER_SIDE:
        return None
    return domain_classifier_drift(reference, current, columns=shared)


def _performance(
    bundle: ModelBundle,
    current: pd.DataFrame,
    labelled: tuple[pd.DataFrame, list[Any]] | None,
    training: tuple[pd.DataFrame, pd.DataFrame] | None,
    target: str | None,
) -> dict[str, Any] | None:
    if bundle.task in UNSUPERVISED:
        return None  # clustering/anomaly models have no performance to realize or estimate
    classes = list(bundle.classes)
    realized = None
    n_labelled = len(labelled[1]) if labelled else 0
    if labelled is not None and n_labelled:
        realized = realized_performance(
            bundle.task,
            labelled[1],
            labelled[0],
            classes=classes,
            positive_class=bundle.positive_class,
        )
    estimated = reference = method = None
    columns = [probability_column(c) for c in classes]
    if (
        bundle.task in ("binary", "multiclass")
        and training is not None
        and target is not None
        and target in training[1].columns
        and all(c in current.columns for c in columns)
    ):
        holdout = training[1][training[1][target].notna()]
        cbpe = CBPE(task=bundle.task).fit(  # type: ignore[arg-type]
            holdout[target].tolist(),
            bundle.predict_proba(holdout),
            classes,
            positive_class=bundle.positive_class,
        )
        predicted = current["prediction"].tolist() if "prediction" in current else None
        estimated = cbpe.estimate(current[columns].to_numpy(dtype=np.float64), predicted)
        reference, method = cbpe.reference_metrics_, cbpe.method_
    if realized is None and estimated is None:
        return None
    return performance_section(
        realized,
        estimated,
        n_labelled=n_labelled,
        n_window=len(current),
        reference=reference,
        method=method,
    )


def _target_reference(
    project: Project,
    model: ModelVersion,
    baseline: pd.DataFrame | ReferenceProfile,
    contract: DataContract | None,
) -> ReferenceProfile | None:
    """The reference whose ``target`` summary target drift compares with: the reference file
    when it holds the target column, else the model's stored profile."""
    if isinstance(baseline, ReferenceProfile):
        return baseline
    contract = contract or project.contract()
    if contract.target is not None and contract.target in baseline.columns:
        return ReferenceProfile.from_frame(baseline[[contract.target]], _target_only(contract))
    try:
        return reference_profile(project, model)
    except NotFoundError:
        return None


def _target_only(contract: DataContract) -> DataContract:
    """``contract`` reduced to its target column (so only the target is summarised)."""
    spec = contract.target_column
    assert spec is not None
    return DataContract(columns=[spec], target=spec.name)


def _attribution(
    bundle: ModelBundle,
    baseline: pd.DataFrame | ReferenceProfile,
    training: tuple[pd.DataFrame, pd.DataFrame] | None,
    current: pd.DataFrame,
) -> dict[str, Any] | None:
    """Attribution drift of the window: shares stored at registration (or, for older
    versions and reference files, computed now on the training rows / the file)."""
    reference = baseline.attributions if isinstance(baseline, ReferenceProfile) else None
    if reference is None:
        rows = baseline if isinstance(baseline, pd.DataFrame) else None
        rows = rows if rows is not None else (training[0] if training is not None else None)
        if rows is None or not set(bundle.feature_names) <= set(rows.columns):
            return None
        reference = attribution_summary(bundle, rows)
    if reference is None or not set(bundle.feature_names) <= set(current.columns):
        return None
    now = attribution_summary(bundle, current)
    return attribution_drift(reference, now) if now is not None else None


def _history(project: Project, model: ModelVersion) -> list[dict[str, Any]]:
    """The model version's last :data:`HISTORY_REPORTS` stored monitor summaries, oldest
    first, as drift-over-time points."""
    stored = project.store.monitoring.list(
        project.name, model_name=model.name, limit=HISTORY_REPORTS
    )
    points = []
    for record in reversed(stored):
        if record.model_version != model.version:
            continue
        summary = record.summary
        points.append(
            {
                "time": record.time.isoformat(timespec="seconds"),
                "share_drifted": float(summary.get("share_drifted", 0.0)),
                "features": {
                    key.removeprefix("drift."): float(value)
                    for key, value in summary.items()
                    if key.startswith("drift.")
                },
            }
        )
    return points
