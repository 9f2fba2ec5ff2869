"""``loopml retrain``: a challenger on newer labelled data, judged against the champion on the
same recent holdout, promoted only when it is better by the charter's margin."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from loopml.data import DataContract
from loopml.errors import DataError, InvalidInputError
from loopml.project._feedback import feedback_frame
from loopml.project._ingest import ingest, load_dataset, read_source
from loopml.project._prepare import PreparedData, check_against_contract, split_holdout
from loopml.project._project import Project
from loopml.project._rollout import Rollout, start_rollout
from loopml.project._train import Progress, TrainOutcome, fit_and_register, holdout_score
from loopml.registry import CHALLENGER, CHAMPION
from loopml.retrain import Decision, RetrainPlan, RetrainPolicy, decide, select_window
from loopml.store import ModelVersion


@dataclass
class RetrainOutcome:
    """What the retraining job did and why."""

    champion_before: ModelVersion | None
    challenger: TrainOutcome | None
    decision: Decision | None
    champion_after: str | None
    dataset_id: str | None
    plan: list[str] = field(default_factory=list)
    dry_run: bool = False
    triggers: RetrainPlan | None = None
    rollout: Rollout | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "champion_before": self.champion_before.ref if self.champion_before else None,
            "challenger": self.challenger.model.ref if self.challenger else None,
            "champion": self.champion_after,
            "promoted": bool(self.decision and self.decision.promote),
            "decision": self.decision.to_dict() if self.decision else None,
            "dataset": self.dataset_id,
            "challenger_metrics": self.challenger.metrics if self.challenger else None,
            "plan": self.plan,
            "triggers": self.triggers.to_dict() if self.triggers else None,
            "rollout": self.rollout.to_dict() if self.rollout else None,
        }


def current_champion(project: Project) -> ModelVersion | None:
    if CHAMPION in project.registry.aliases(project.name):
        return project.registry.get(f"{project.name}@{CHAMPION}")
    return None


def retrain(
    project: Project,
    data: str | Path | None = None,
    *,
    dry_run: bool = False,
    time_budget: float | None = None,
    progress: Progress | None = None,
    from_feedback: bool = False,
    automatic: bool = False,
) -> RetrainOutcome:
    """Retrain on the champion's data plus the newer labelled ``data`` (default: the charter's
    source, read again; with ``from_feedback``, the logged predictions that received ground
    truth).

    The newer data is cut per the charter's split; its holdout (the most recent rows under a time
    split) is the shared test set: the champion and the challenger are both scored on it, and the
    challenger is trained on everything else. Every decision is appended to the audit log.
    ``automatic`` marks a job started by a trigger (``loopml retrain --auto``, scheduled
    monitors) rather than on demand: the plan then names only the triggers that fired.

    Raises:
        DataError: the newer data lacks the target or the model's columns.
        NotFoundError: ``retraining.rollout.deployment`` names no deployment.
    """
    report = progress or (lambda _step, _fraction: None)
    champion = current_champion(project)
    spec = project.charter.retraining.rollout
    if spec.strategy != "direct" and spec.deployment is not None:
        project.store.deployments.get(spec.deployment)  # fail before training, not after
    if from_feedback:
        if data is not None:
            raise InvalidInputError(
                "Give either a data file or --from-feedback, not both.",
                hint="Drop one of them.",
            )
        new_frame, source = feedback_frame(project)
    else:
        new_frame, source = read_source(project, data)
    contract = project.contract()
    kept, validation, quarantine = check_against_contract(
        project, new_frame, contract, label="retrain"
    )
    kept = kept.reset_index(drop=True)
    cut = split_holdout(project, kept, contract)
    recent_train = kept.iloc[cut.train_index]
    holdout = kept.iloc[cut.test_index].reset_index(drop=True)
    base_frame = None
    parent_id = None
    if champion is not None and champion.dataset_id is not None:
        parent_version, base_frame = load_dataset(project, champion.dataset_id)
        parent_id = parent_version.id
    combined, window_text = select_window(
        _combine(base_frame, recent_train, contract),
        project.charter.retraining.data_window,
        time_column=project.charter.time_column,
    )
    triggers = retrain_triggers(project, champion, on_demand=not automatic)
    plan = [
        f"why: {triggers.reason}",
        f"read {len(new_frame)} newer labelled rows from {source.get('path', source.get('url'))}",
        f"hold out {len(holdout)} recent rows as the shared test set",
        f"train a challenger on {len(combined)} rows"
        + (f" (dataset {parent_id} plus the newer rows)" if parent_id else "")
        + f"; data window: {window_text}",
        f"score the champion ({champion.ref}) and the challenger on the holdout"
        if champion
        else "no champion yet: the challenger becomes champion if it passes its gates",
        f"promote if better by at least {project.charter.acceptance.retrain_margin} "
        f"({project.charter.metric or 'the default metric'})",
        _rollout_step(project, champion),
    ]
    if dry_run:
        return RetrainOutcome(
            champion,
            None,
            None,
            champion.ref if champion else None,
            None,
            plan,
            dry_run=True,
            triggers=triggers,
        )
    # The new version holds everything known now (the holdout too, so the next generation
    # trains on it); this challenger trains on `combined` and is judged on `holdout`, which is
    # stored with its run so later evaluations reuse exactly those rows.
    version = ingest(
        project,
        frame=_combine(base_frame, kept, contract),
        source={"kind": "retrain", "newer": source},
        parent_id=parent_id,
    )
    prepared = PreparedData(
        train=combined,
        holdout=holdout,
        split={"strategy": "retrain-recent-holdout", **cut.describe()},
        validation=validation,
        quarantine_path=quarantine,
    )
    challenger = fit_and_register(
        project,
        version,
        prepared,
        time_budget=time_budget,
        seed=None,
        progress=report,
        promote=False,
        kind="retrain",
    )
    decision = _judge(project, champion, challenger, holdout)
    champion_after, rollout = _apply(project, champion, challenger, decision)
    return RetrainOutcome(
        champion,
        challenger,
        decision,
        champion_after,
        version.id,
        plan,
        triggers=triggers,
        rollout=rollout,
    )


def retrain_triggers(
    project: Project,
    champion: ModelVersion | None,
    *,
    on_demand: bool = True,
    now: datetime | None = None,
) -> RetrainPlan:
    """The charter's retraining triggers on the latest monitor summary of ``champion`` (a
    report of another version does not count) and the time of the last retraining run.
    ``on_demand`` (``loopml retrain``) retrains whatever they say; the plan says which fired.
    A schedule counts from the last retraining run, or from the champion's registration."""
    name = champion.name if champion else project.name
    reports = project.store.monitoring.list(project.name, model_name=name, limit=1)
    summary = reports[0].summary if reports else None
    if reports and champion is not None and reports[0].model_version != champion.version:
        summary = None
    retrains = project.store.runs.list(project.name, kind="retrain", limit=1)
    # Never retrained: a schedule counts from the champion's registration.
    last = retrains[0].start_time if retrains else (champion.created_at if champion else None)
    policy = RetrainPolicy.from_spec(project.charter.retraining)
    return policy.evaluate(summary, last_retrain=last, now=now, on_demand=on_demand)


def _rollout_step(project: Project, champion: ModelVersion | None) -> str:
    rollout = project.charter.retraining.rollout
    if champion is None or rollout.strategy == "direct":
        return "roll out directly: a winner becomes champion"
    where = repr(rollout.deployment) if rollout.deployment else "the deployment serving it"
    return (
        f"roll out a winner as a {rollout.strategy} at {rollout.weight:.0%} of the traffic "
        f"on {where}; the champion alias stays until the rollout promotes it"
    )


def _combine(
    base: pd.DataFrame | None, newer: pd.DataFrame, contract: DataContract
) -> pd.DataFrame:
    if base is None:
        return newer.reset_index(drop=True)
    # Columns the model does not read (ids, times, ignored ones) may be absent from newer rows,
    # e.g. rows rebuilt from the prediction log; they are left empty there.
    inputs = set(contract.feature_names) | {contract.target}
    missing = [c for c in base.columns if c not in newer.columns and c in inputs]
    newer = newer.reindex(
        columns=[*newer.columns, *(c for c in base.columns if c not in newer.columns)]
    )
    if missing:
        raise DataError(
            f"The newer data lacks {len(missing)} column(s) of the training data: "
            f"{', '.join(missing)}.",
            hint="Provide the same columns as the data the champion was trained on.",
        )
    return pd.concat([base, newer[base.columns]], ignore_index=True)


def _judge(
    project: Project,
    champion: ModelVersion | None,
    challenger: TrainOutcome,
    holdout: pd.DataFrame,
) -> Decision:
    """Score the champion on the challenger's holdout and apply the promotion rule."""
    gates_passed = all(g.passed for g in challenger.gates)
    challenger_score = challenger.metrics.get(challenger.metric)
    if champion is None:
        reason = "there is no champion yet" if gates_passed else "the challenger failed its gates"
        return Decision(
            promote=gates_passed,
            metric=challenger.metric,
            champion_score=None,
            challenger_score=challenger_score,
            improvement=None,
            margin=project.charter.acceptance.retrain_margin,
            gates_passed=gates_passed,
            reason=reason,
        )
    _version, bundle = project.registry.load(champion.ref)
    return decide(
        metric=challenger.metric,
        greater_is_better=challenger.greater_is_better,
        champion_score=holdout_score(bundle, holdout, challenger.metric),
        challenger_score=challenger_score,
        margin=project.charter.acceptance.retrain_margin,
        gates_passed=gates_passed,
    )


def _apply(
    project: Project,
    champion: ModelVersion | None,
    challenger: TrainOutcome,
    decision: Decision,
) -> tuple[str | None, Rollout | None]:
    """Act on the decision through the governed promotion rules and the charter's rollout.

    ``direct``: a winning challenger becomes champion (approved by policy), or challenger
    awaiting an approval when the charter requires one. ``canary``/``shadow``: a winner becomes
    challenger and is rolled out on the deployment serving the champion (see
    :func:`loopml.project._rollout.start_rollout`); the champion alias stays. The decision and the
    rollout are appended to the audit log."""
    model = challenger.model
    governance = project.governance
    strategy = project.charter.retraining.rollout.strategy
    staged = decision.promote and champion is not None and strategy != "direct"
    rollout = start_rollout(project, champion, model) if staged and champion else None
    project.store.audit.append(
        "loopml",
        "retrain.decision",
        model.ref,
        reason=decision.reason,
        details=decision.to_dict()
        | {"champion": champion.ref if champion else None}
        | {"rollout": rollout.to_dict() if rollout else {"strategy": "direct"}},
    )
    if decision.promote and not staged:
        current = project.store.models.get_version(model.name, model.version)
        if not governance.missing_requirements(current, CHAMPION):
            governance.promote(
                model.name, model.version, CHAMPION, actor="loopml", reason=decision.reason
            )
            return model.ref, None
    governance.promote(
        model.name, model.version, CHALLENGER, actor="loopml", reason=decision.reason
    )
    if decision.promote and not staged:
        governance.request_approval(model.name, model.version, CHAMPION, reason=decision.reason)
    return (champion.ref if champion else None), rollout
