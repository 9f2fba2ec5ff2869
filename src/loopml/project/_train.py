"""``loopml train``: baselines and candidates, tracked runs, holdout evaluation, gates, registry."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from loopml.data import to_snapshot_bytes
from loopml.evaluate import EvaluationReport, GateResult, evaluate_gates, evaluate_model
from loopml.evaluate._mitigation import check_mitigation, mitigation_comparison
from loopml.features import check_features
from loopml.monitor import ReferenceProfile, attribution_summary
from loopml.project._ingest import load_dataset
from loopml.project._prepare import PreparedData, attach_cleaning, clean_training, prepare
from loopml.project._project import Project
from loopml.registry import CHALLENGER, CHAMPION, Governance
from loopml.store import DatasetVersion, ModelVersion
from loopml.tracking import ActiveRun, start_run
from loopml.train import (
    CandidateResult,
    Costs,
    ModelBundle,
    TrainingResult,
    TrialRecord,
    default_metric,
    train_candidates,
)

Progress = Callable[[str, float], None]
"""Called with a short description of the current step and the fraction of work done (0..1)."""

HOLDOUT_ARTIFACT = "holdout.parquet"
"""Run artifact holding the holdout rows a registered version was evaluated on."""

BASELINE_FAMILIES = ("dummy", "linear")

FEATURES_ARTIFACT = "features.json"
"""Run artifact: the feature plan, what feature selection dropped and why, pseudo-labels."""


@dataclass
class TrainOutcome:
    """What one training run produced and decided."""

    model: ModelVersion
    run_id: str
    dataset_id: str
    metric: str
    greater_is_better: bool
    metrics: dict[str, float]
    gates: list[GateResult]
    champion: bool
    alias: str | None
    decision: str
    leaderboard: list[dict[str, Any]]
    report_html: Path
    report_json: Path
    warnings: list[str] = field(default_factory=list)
    mitigation: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model.ref,
            "run_id": self.run_id,
            "dataset": self.dataset_id,
            "metric": self.metric,
            "metrics": self.metrics,
            "champion": self.champion,
            "alias": self.alias,
            "decision": self.decision,
            "gates": [g.to_dict() for g in self.gates],
            "leaderboard": self.leaderboard,
            "report": str(self.report_html),
            "warnings": self.warnings,
            "mitigation": self.mitigation,
        }


def train(
    project: Project,
    *,
    time_budget: float | None = None,
    seed: int | None = None,
    dataset_id: str | None = None,
    progress: Progress | None = None,
    promote: bool = True,
    trials: int | Mapping[str, int] | None = None,
    mitigate: str | None = None,
) -> TrainOutcome:
    """Train on a dataset version (default: the newest; the charter's source is ingested first
    when nothing has been) and register the best model.

    With ``promote`` the new version becomes ``champion`` when it passes every gate and there is
    no champion yet, and ``challenger`` when there is one (replacing a champion is the retraining
    loop's decision, made on a shared holdout). Failing gates leave it without an alias and the
    decision says which gates failed. ``trials`` fixes the tuning trials per family (default: the
    charter's ``training.trials``; none: as many as the time budget allows). ``mitigate`` (a
    Fairlearn constraint: ``demographic_parity`` or ``equalized_odds``) also fits a mitigated
    candidate and compares it on the holdout (see
    :func:`loopml.evaluate._mitigation.mitigation_comparison`); it is never registered.

    Raises:
        InvalidInputError: ``mitigate`` is set but the task is not binary or the contract has
            no sensitive column (checked before any training).
    """
    report = progress or (lambda _step, _fraction: None)
    report("loading data", 0.0)
    version, frame = load_dataset(project, dataset_id)
    prepared = prepare(project, frame, project.contract(), label=version.id)
    return fit_and_register(
        project,
        version,
        prepared,
        time_budget=time_budget,
        seed=seed,
        progress=report,
        promote=promote,
        trials=trials,
        mitigate=mitigate,
    )


def fit_and_register(
    project: Project,
    version: DatasetVersion,
    prepared: PreparedData,
    *,
    time_budget: float | None,
    seed: int | None,
    progress: Progress,
    promote: bool,
    kind: str = "train",
    trials: int | Mapping[str, int] | None = None,
    mitigate: str | None = None,
) -> TrainOutcome:
    """Fit candidates on ``prepared.train``, evaluate on ``prepared.holdout``, register the best."""
    charter = project.charter
    if mitigate is not None:
        check_mitigation(charter.task, project.contract(), mitigate)
    if not charter.is_supervised:
        from loopml.project._train_unsupervised import fit_and_register_unsupervised

        return fit_and_register_unsupervised(
            project, version, prepared, seed=seed, progress=progress, promote=promote, kind=kind
        )
    check_features(charter.features, project.contract())  # a bad derived feature: no run
    prepared = clean_training(project, prepared)
    budget = time_budget if time_budget is not None else charter.training.time_budget
    run_seed = seed if seed is not None else charter.training.seed
    run_trials = trials if trials is not None else charter.training.trials
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
        run.log_params(
            {
                "task": charter.task,
                "target": charter.target,
                "time_budget": budget,
                "seed": run_seed,
                "cv_folds": charter.training.cv_folds,
                "split": json.dumps(prepared.split, sort_keys=True),
                "train_rows": len(prepared.train),
                "holdout_rows": len(prepared.holdout),
            }
        )
        run.log_metric("validation_violations", float(len(prepared.validation.violations)))
        result = _search(project, run, prepared.train, budget, run_seed, progress, run_trials)
        attach_cleaning(run, result, prepared)
        _log_features(run, result)
        # The trial count per tuned family: `loopml train --trials N` replays the search.
        run.log_params({"trials": json.dumps(result.trials, sort_keys=True)})
        progress("evaluating on the holdout", 0.9)
        outcome = _register_best(project, run, version, prepared, result, promote, mitigate)
        progress("done", 1.0)
        return outcome


def _search(
    project: Project,
    run: ActiveRun,
    train_frame: pd.DataFrame,
    budget: float,
    seed: int,
    progress: Progress,
    trials: int | Mapping[str, int] | None = None,
) -> TrainingResult:
    """Run the candidate search, logging each candidate and each tuning trial as a child run."""
    charter = project.charter
    spec = charter.training
    metric = charter.metric or default_metric(charter.task)  # type: ignore[arg-type]

    def on_candidate(candidate: CandidateResult) -> None:
        with run.child(candidate.family, "candidate", status=candidate.status) as child:
            child.log_params(candidate.params)
            if candidate.reason:
                child.set_tags({"reason": candidate.reason})
            for fold, score in enumerate(candidate.fold_scores):
                child.log_metric(f"cv_{metric}", float(score), step=fold)
            summary = {
                f"cv_{metric}_mean": candidate.cv_mean,
                f"cv_{metric}_std": candidate.cv_std,
                "fit_seconds": candidate.fit_seconds,
                "latency_ms_p50": candidate.latency_ms_p50,
                "latency_ms_p99": candidate.latency_ms_p99,
                "trials": float(candidate.n_trials),
            }
            child.log_metrics({k: v for k, v in summary.items() if v is not None})

    def on_trial(trial: TrialRecord) -> None:
        name = f"{trial.family}-trial-{trial.number}"
        with run.child(name, "trial", status=trial.state, family=trial.family) as child:
            child.log_params(trial.params)
            if trial.reason:
                child.set_tags({"reason": trial.reason})
            for fold, score in enumerate(trial.fold_scores):
                child.log_metric(f"cv_{metric}", float(score), step=fold)
            if trial.score is not None:
                child.log_metric(f"cv_{metric}_mean", trial.score)
            child.log_metric("seconds", trial.seconds)

    return train_candidates(
        train_frame,
        project.contract(),
        task=charter.task,  # type: ignore[arg-type]
        metric=metric,
        families=charter.training.families,
        time_budget=budget,
        cv_folds=charter.training.cv_folds,
        seed=seed,
        positive_class=charter.positive_class,
        cv_strategy="time" if charter.split_strategy == "time" else None,
        threshold=spec.threshold,
        costs=None if spec.costs is None else Costs(**spec.costs.model_dump()),
        calibrate_probabilities=spec.calibrate,
        tune=spec.tune,
        sampler=spec.sampler,
        trials=trials,
        ensemble=spec.ensemble,
        max_latency_ms=charter.acceptance.max_latency_p99_ms,
        features=charter.features,
        self_training=spec.self_training,
        on_candidate=on_candidate,
        on_trial=on_trial,
        progress=lambda step, fraction: progress(step, 0.05 + 0.85 * fraction),
    )


def _log_features(run: ActiveRun, result: TrainingResult) -> None:
    """Log the feature plan (param ``features``), what selection dropped from the chosen model
    (metric ``features_dropped``, artifact ``features.json`` with ``{column, reason, score}``
    per column) and the pseudo-labels self-training added (metric ``pseudo_labels``)."""
    run.log_params({"features": json.dumps(result.features, sort_keys=True)})
    run.log_metric("features_dropped", float(len(result.feature_selection)))
    if result.pseudo_labels is not None:
        run.log_metric("pseudo_labels", float(result.pseudo_labels))
    record = {
        "plan": result.features,
        "dropped": result.feature_selection,
        "pca": result.best.features.get("pca"),
        "unlabelled_rows": result.unlabelled_rows,
        "pseudo_labels": result.pseudo_labels,
        "chosen": result.best.family,
    }
    run.log_artifact(FEATURES_ARTIFACT, json.dumps(record, indent=2).encode())


MIN_LATENCY_CALLS = 20


def measure_latency(
    bundle: ModelBundle, frame: pd.DataFrame, *, calls: int = 200, seconds: float = 2.0
) -> dict[str, float]:
    """Single-row prediction latency (ms) through the whole pipeline: p50 and p99 of up to
    ``calls`` predictions, fewer (at least 20) when they take longer than ``seconds`` together."""
    rows = frame.iloc[: max(1, min(len(frame), 20))]
    timings = []
    deadline = time.perf_counter() + seconds
    for i in range(calls):
        row = rows.iloc[[i % len(rows)]]
        start = time.perf_counter()
        bundle.predict_frame(row)
        timings.append((time.perf_counter() - start) * 1000.0)
        if i >= MIN_LATENCY_CALLS - 1 and time.perf_counter() > deadline:
            break
    values = np.asarray(timings)
    return {
        "latency_p50_ms": float(np.percentile(values, 50)),
        "latency_p99_ms": float(np.percentile(values, 99)),
    }


def holdout_score(bundle: ModelBundle, holdout: pd.DataFrame, metric: str) -> float | None:
    """``metric`` of ``bundle`` on ``holdout`` (None when undefined on that data)."""
    from loopml.evaluate import compute_metrics

    target = bundle.contract.target
    assert target is not None
    labelled = holdout[holdout[target].notna()]
    metrics = compute_metrics(
        bundle.task,
        labelled[target],
        bundle.predict_frame(labelled),
        classes=bundle.classes,
        positive_class=bundle.positive_class,
    )
    return metrics.get(metric)


def _baseline_score(
    result: TrainingResult, holdout: pd.DataFrame, best: CandidateResult
) -> float | None:
    """Holdout score of the best baseline other than the selected candidate."""
    scores = []
    for candidate in result.candidates:
        if candidate.family in BASELINE_FAMILIES and candidate is not best and candidate.bundle:
            score = holdout_score(candidate.bundle, holdout, result.metric)
            if score is not None:
                scores.append(score)
    if not scores:
        return None
    return max(scores) if result.greater_is_better else min(scores)


def _register_best(
    project: Project,
    run: ActiveRun,
    version: DatasetVersion,
    prepared: PreparedData,
    result: TrainingResult,
    promote: bool,
    mitigate: str | None = None,
) -> TrainOutcome:
    charter = project.charter
    best = result.best
    assert best.bundle is not None
    bundle = best.bundle
    latency = measure_latency(bundle, prepared.holdout)
    ref = f"{project.name}:next"
    evaluation = evaluate_model(bundle, prepared.holdout, model_ref=ref, dataset_id=version.id)
    metrics = {**evaluation.metrics, **latency}
    score = metrics.get(result.metric)
    gates = evaluate_gates(
        metric=result.metric,
        greater_is_better=result.greater_is_better,
        score=score if score is not None else float("nan"),
        baseline_score=_baseline_score(result, prepared.holdout, best),
        min_score=charter.acceptance.min_score,
        min_margin_over_baseline=charter.acceptance.min_margin_over_baseline,
        max_latency_ms=charter.acceptance.max_latency_p99_ms,
        latency_ms=latency["latency_p99_ms"],
        fairness=evaluation.fairness,
        task=bundle.task,
        max_demographic_parity_difference=charter.acceptance.max_demographic_parity_difference,
        max_equalized_odds_difference=charter.acceptance.max_equalized_odds_difference,
        min_disparate_impact_ratio=charter.acceptance.min_disparate_impact_ratio,
    )
    mitigation = None
    if mitigate is not None:
        mitigation = mitigation_comparison(
            bundle,
            prepared.train,
            prepared.holdout,
            constraint=mitigate,
            seed=charter.training.seed,
        )
        evaluation.fairness["mitigation"] = mitigation
    run.log_metrics(metrics)
    run.set_tags({"best_family": best.family, "metric": result.metric})
    reference = prepared.reference_rows
    profile = ReferenceProfile.from_frame(
        reference, bundle.contract, predictions=bundle.predict_frame(reference)
    )
    profile.attributions = attribution_summary(bundle, reference)  # for attribution drift
    run.log_artifact("reference_profile", json.dumps(profile.to_dict()).encode())
    # The exact rows the version is judged on, so `evaluate` and `compare` reuse them later.
    run.log_artifact(HOLDOUT_ARTIFACT, to_snapshot_bytes(prepared.holdout))
    run.flush()
    model, html_path, json_path = register_with_reports(
        project,
        run,
        bundle,
        evaluation,
        dataset_id=version.id,
        metrics=metrics,
        gates=gates,
        description=f"{best.family} trained on dataset {version.id}",
    )
    alias, decision = _decide(project, model, gates, promote)
    return TrainOutcome(
        model=project.store.models.get_version(model.name, model.version),
        run_id=run.id,
        dataset_id=version.id,
        metric=result.metric,
        greater_is_better=result.greater_is_better,
        metrics=metrics,
        gates=gates,
        champion=alias == CHAMPION,
        alias=alias,
        decision=decision,
        leaderboard=result.leaderboard(),
        report_html=html_path,
        report_json=json_path,
        warnings=list(getattr(result, "warnings", [])),
        mitigation=mitigation,
    )


def _decide(
    project: Project, model: ModelVersion, gates: list[GateResult], promote: bool
) -> tuple[str | None, str]:
    """Give a version that passed its gates an alias, through the governed promotion rules.

    The first such version becomes champion (approved by policy when the charter does not require
    approvals; otherwise it becomes challenger and an approval request is audited).
    """
    failed = [g for g in gates if not g.passed]
    if failed:
        reasons = " ".join(g.message for g in failed)
        return None, f"{model.ref} failed {len(failed)} acceptance gate(s): {reasons}"
    if not promote:
        return None, f"{model.ref} passed every gate."
    governance = project.governance
    aliases = project.registry.aliases(model.name)
    if CHAMPION not in aliases:
        why = "first version to pass every gate"
        if governance.missing_requirements(model, CHAMPION):
            return _await_approval(governance, model, why)
        governance.promote(model.name, model.version, CHAMPION, actor="loopml", reason=why)
        return CHAMPION, f"{model.ref} passed every gate and is now {model.name}@{CHAMPION}."
    governance.promote(
        model.name,
        model.version,
        CHALLENGER,
        actor="loopml",
        reason="passed every gate; a champion exists",
    )
    return CHALLENGER, (
        f"{model.ref} passed every gate and is now {model.name}@{CHALLENGER}; "
        f"{model.name}@{CHAMPION} stays v{aliases[CHAMPION]} until `loopml retrain` or "
        f"`loopml models promote` replaces it."
    )


def _await_approval(
    governance: Governance, model: ModelVersion, why: str
) -> tuple[str | None, str]:
    """Make ``model`` the challenger and audit that it waits for an approval to be champion."""
    governance.promote(model.name, model.version, CHALLENGER, actor="loopml", reason=why)
    governance.request_approval(model.name, model.version, CHAMPION, reason=why)
    return CHALLENGER, (
        f"{model.ref} passed every gate and is now {model.name}@{CHALLENGER}; it needs an "
        f"approval to become {model.name}@{CHAMPION}: run `loopml models approve {model.ref} "
        f"--by NAME --reason TEXT`, then `loopml models promote {model.ref}`."
    )


def register_with_reports(
    project: Project,
    run: ActiveRun,
    bundle: ModelBundle,
    evaluation: EvaluationReport,
    *,
    dataset_id: str,
    metrics: dict[str, float],
    gates: list[GateResult],
    description: str,
) -> tuple[ModelVersion, Path, Path]:
    """Register ``bundle`` from ``run``, then write its evaluation report and model card
    (Markdown and HTML) into the version's report folder and keep them with the run, so every
    registered version has both from the start. Returns the version and the report's HTML and
    JSON paths."""
    from loopml.project._evaluate import model_card  # _evaluate imports this module

    model = project.registry.register(
        project.name,
        bundle,
        run_id=run.id,
        dataset_id=dataset_id,
        metrics=metrics,
        gates=[g.to_dict() for g in gates],
        description=description,
    )
    evaluation.model_ref = model.ref
    evaluation.gates = gates
    out_dir = project.paths.reports / f"{project.name}-v{model.version}"
    html_path, json_path = evaluation.write(out_dir)
    run.log_artifact("evaluation.html", html_path)
    run.log_artifact("evaluation.json", json_path)
    run.flush()  # the card reads the run's tags (git commit, metric) from the store
    card_md, card_html = model_card(project, model, bundle, evaluation).write(out_dir)
    run.log_artifact("model_card.md", card_md)
    run.log_artifact("model_card.html", card_html)
    run.flush()
    return model, html_path, json_path
