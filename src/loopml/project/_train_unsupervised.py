"""``loopml train`` for clustering and anomaly charters: fit, track, evaluate, gate, register.

The candidates (k-means and Gaussian mixtures for each k, DBSCAN; isolation forest and LOF) are
child runs with their scores; the chosen model is evaluated on the holdout like a supervised one
(:func:`loopml.evaluate.evaluate_model`). The primary metric is ``silhouette`` for clustering
and ``precision_at_k`` for anomaly detection when the holdout labels known anomalies; without
one, ``acceptance.min_score`` cannot be checked (a warning says so) and the gate is instead
that the holdout is flagged at the training rate. ``acceptance.min_margin_over_baseline`` is
the margin over chance: the silhouette of the same cluster sizes assigned at random, or the
precision of flagging at random (the prevalence of known anomalies).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from scipy.stats import binomtest

from loopml.data import to_snapshot_bytes
from loopml.errors import DataError
from loopml.evaluate import GateResult, evaluate_gates, evaluate_model
from loopml.evaluate._unsupervised import UNSUPERVISED_GREATER_IS_BETTER, primary_metric
from loopml.monitor import ReferenceProfile
from loopml.project._prepare import PreparedData
from loopml.project._project import Project
from loopml.store import DatasetVersion
from loopml.tracking import ActiveRun, start_run
from loopml.train import UnsupervisedResult, train_anomaly, train_clusters

if TYPE_CHECKING:
    from loopml.project._train import Progress, TrainOutcome

LATENCY_CALLS = 50
"""Single-row predictions timed for the latency metrics and the latency gate."""
FLAGGED_SHARE_LEVEL = 0.01
"""Significance level of the flagged-share gate of anomaly models without known anomalies."""
MIN_ROWS = 20
"""Fewest rows a clustering/anomaly dataset may have: at least 10 to fit, the rest to evaluate."""


def fit_and_register_unsupervised(
    project: Project,
    version: DatasetVersion,
    prepared: PreparedData,
    *,
    seed: int | None,
    progress: Progress,
    promote: bool,
    kind: str = "train",
) -> TrainOutcome:
    """Fit the charter's clustering or anomaly model on ``prepared.train``, evaluate it on
    ``prepared.holdout`` and register it.

    Raises:
        DataError: fewer than :data:`MIN_ROWS` rows, or too few to fit (see
            :func:`loopml.train.train_clusters`).
    """
    from loopml.project._train import (
        HOLDOUT_ARTIFACT,
        TrainOutcome,
        _decide,
        measure_latency,
        register_with_reports,
    )

    charter = project.charter
    rows = len(prepared.train) + len(prepared.holdout)
    if rows < MIN_ROWS:
        raise DataError(
            f"The data has {rows} usable row(s); {charter.task} needs at least {MIN_ROWS} "
            "(to fit, and a holdout to evaluate on).",
            hint="Ingest more rows (`loopml ingest`).",
        )
    spec = charter.unsupervised
    run_seed = seed if seed is not None else charter.training.seed
    contract = project.contract()
    with start_run(
        project.store,
        project.name,
        f"{kind}-{version.id}",
        kind=kind,
        dataset_id=version.id,
        artifacts=project.artifacts,
        code_dir=project.paths.root,
        tags={"charter_sha256": project.charter_sha256()},
    ) as run:
        settings: dict[str, Any] = (
            {"max_clusters": spec.max_clusters}
            if charter.task == "clustering"
            else {"contamination": spec.contamination, "anomaly_method": spec.anomaly_method}
        )
        run.log_params(
            {
                "task": charter.task,
                "target": charter.target,
                "seed": run_seed,
                "split": json.dumps(prepared.split, sort_keys=True),
                "train_rows": len(prepared.train),
                "holdout_rows": len(prepared.holdout),
                **settings,
            }
        )
        run.log_metric("validation_violations", float(len(prepared.validation.violations)))
        progress(f"fitting {charter.task} candidates", 0.1)
        if charter.task == "clustering":
            result = train_clusters(
                prepared.train, contract, max_clusters=spec.max_clusters, seed=run_seed
            )
        else:
            result = train_anomaly(
                prepared.train,
                contract,
                contamination=spec.contamination,
                method=spec.anomaly_method,
                seed=run_seed,
            )
        _log_candidates(run, result)
        progress("evaluating on the holdout", 0.8)
        bundle = result.bundle
        evaluation = evaluate_model(
            bundle, prepared.holdout, model_ref=f"{project.name}:next", dataset_id=version.id
        )
        # Fewer timed calls than for supervised models: an isolation forest scores one row
        # through each of its trees in Python, so 200 calls would dominate the training time.
        latency = measure_latency(bundle, prepared.holdout, calls=LATENCY_CALLS)
        metrics = {**evaluation.metrics, **latency}
        labelled = "precision_at_k" in evaluation.metrics
        metric = primary_metric(charter.task, labelled=labelled)
        warnings = list(result.warnings)
        acceptance = charter.acceptance
        if metric is None and acceptance.min_score is not None:
            warnings.append(
                "acceptance.min_score is not checked: the holdout labels no known anomalies, "
                "so there is no quality metric for an anomaly model."
            )
        greater = True if metric is None else bool(UNSUPERVISED_GREATER_IS_BETTER[metric])
        gates = evaluate_gates(
            metric=metric or "",
            greater_is_better=greater,
            score=metrics.get(metric or "", float("nan")),
            baseline_score=evaluation.unsupervised.get("baseline"),
            min_score=acceptance.min_score if metric else None,
            min_margin_over_baseline=acceptance.min_margin_over_baseline if metric else None,
            max_latency_ms=acceptance.max_latency_p99_ms,
            latency_ms=latency["latency_p99_ms"],
            task=charter.task,
        )
        if metric is None:
            gates.insert(0, flagged_share_gate(bundle.metadata, evaluation.unsupervised))
        run.log_metrics(metrics)
        run.set_tags({"best_family": bundle.family, "method": result.method})
        if metric:
            run.set_tags({"metric": metric})
        profile = ReferenceProfile.from_frame(
            prepared.train, bundle.contract, predictions=bundle.predict_frame(prepared.train)
        )
        run.log_artifact("reference_profile", json.dumps(profile.to_dict()).encode())
        run.log_artifact(HOLDOUT_ARTIFACT, to_snapshot_bytes(prepared.holdout))
        if result.profiles:
            run.log_artifact("cluster_profiles.json", json.dumps(result.profiles).encode())
        run.flush()
        model, html_path, json_path = register_with_reports(
            project,
            run,
            bundle,
            evaluation,
            dataset_id=version.id,
            metrics=metrics,
            gates=gates,
            description=f"{result.method} ({charter.task}) trained on dataset {version.id}",
        )
        alias, decision = _decide(project, model, gates, promote)
        progress("done", 1.0)
        return TrainOutcome(
            model=project.store.models.get_version(model.name, model.version),
            run_id=run.id,
            dataset_id=version.id,
            metric=metric or "none",
            greater_is_better=greater,
            metrics=metrics,
            gates=gates,
            champion=alias == "champion",
            alias=alias,
            decision=decision,
            leaderboard=leaderboard(result),
            report_html=html_path,
            report_json=json_path,
            warnings=warnings,
        )


def flagged_share_gate(metadata: dict[str, Any], details: dict[str, Any]) -> GateResult:
    """Without known anomalies: does the detector flag the holdout at the rate it flagged its
    training rows? A binomial test at level :data:`FLAGGED_SHARE_LEVEL`; failing it means the
    holdout looks unlike the training rows to the detector (or the detector is unstable)."""
    expected = float(metadata.get("flagged_share", 0.0))
    flagged, rows = int(details["flagged"]), int(details["rows"])
    p_value = float(binomtest(flagged, rows, expected).pvalue) if 0 < expected < 1 else 1.0
    passed = p_value >= FLAGGED_SHARE_LEVEL
    share = flagged / rows
    verdict = "consistent with" if passed else "significantly different from"
    return GateResult(
        "flagged_share",
        passed,
        share,
        expected,
        f"The holdout flagged share {share:.4g} ({flagged} of {rows} rows) is {verdict} the "
        f"training share {expected:.4g} (binomial test p = {p_value:.3g}, level "
        f"{FLAGGED_SHARE_LEVEL}).",
    )


def _log_candidates(run: ActiveRun, result: UnsupervisedResult) -> None:
    """One child run per candidate with its scores on the training rows."""
    for row in result.candidates:
        name = str(row["method"])
        status = "chosen" if name == result.method else "finished"
        with run.child(name, "candidate", status=status) as child:
            child.log_params({"method": name})
            child.log_metrics(
                {
                    key: float(value)
                    for key, value in row.items()
                    if isinstance(value, int | float) and abs(float(value)) != float("inf")
                }
            )


def leaderboard(result: UnsupervisedResult) -> list[dict[str, Any]]:
    """The candidates as leaderboard rows: ``family``, ``cv_mean`` (silhouette on the training
    rows, clustering only), ``status`` and every score."""
    rows = []
    for row in result.candidates:
        chosen = row["method"] == result.method
        rows.append(
            {
                "family": row["method"],
                "cv_mean": row.get("silhouette"),
                "status": "chosen" if chosen else "ok",
                **{k: v for k, v in row.items() if k != "method"},
            }
        )
    return rows
