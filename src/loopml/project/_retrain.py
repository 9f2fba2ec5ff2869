"""``loopml retrain``: a challenger on newer labelled data, judged against the champion on the
same recent holdout, promoted only when it is better by the charter's margin."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from loopml.errors import DataError
from loopml.project._ingest import ingest, load_dataset, read_source
from loopml.project._prepare import PreparedData, check_against_contract, split_holdout
from loopml.project._project import Project
from loopml.project._train import Progress, TrainOutcome, fit_and_register, holdout_score
from loopml.registry import CHALLENGER, CHAMPION
from loopml.retrain import Decision, decide
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
        }


def _current_champion(project: Project) -> ModelVersion | None:
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
) -> RetrainOutcome:
    """Retrain on the champion's data plus the newer labelled ``data`` (default: the charter's
    source, read again).

    The newer data is cut per the charter's split; its holdout (the most recent rows under a time
    split) is the shared test set: the champion and the challenger are both scored on it, and the
    challenger is trained on everything else. Every decision is appended to the audit log.

    Raises:
        DataError: the newer data lacks the target or the model's columns.
    """
    report = progress or (lambda _step, _fraction: None)
    champion = _current_champion(project)
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
    combined = _combine(base_frame, recent_train)
    plan = [
        f"read {len(new_frame)} newer labelled rows from {source.get('path', source.get('url'))}",
        f"hold out {len(holdout)} recent rows as the shared test set",
        f"train a challenger on {len(combined)} rows"
        + (f" (dataset {parent_id} plus the newer rows)" if parent_id else ""),
        f"score the champion ({champion.ref}) and the challenger on the holdout"
        if champion
        else "no champion yet: the challenger becomes champion if it passes its gates",
        f"promote if better by at least {project.charter.acceptance.retrain_margin} "
        f"({project.charter.metric or 'the default metric'})",
    ]
    if dry_run:
        return RetrainOutcome(
            champion, None, None, champion.ref if champion else None, None, plan, dry_run=True
        )
    version = ingest(
        project, frame=combined, source={"kind": "retrain", "newer": source}, parent_id=parent_id
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
    champion_after = _apply(project, champion, challenger, decision)
    return RetrainOutcome(champion, challenger, decision, champion_after, version.id, plan)


def _combine(base: pd.DataFrame | None, newer: pd.DataFrame) -> pd.DataFrame:
    if base is None:
        return newer.reset_index(drop=True)
    missing = [c for c in base.columns if c not in newer.columns]
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
) -> str | None:
    model = challenger.model
    registry = project.registry
    project.store.audit.append(
        "loopml",
        "retrain.decision",
        model.ref,
        reason=decision.reason,
        details=decision.to_dict() | {"champion": champion.ref if champion else None},
    )
    if decision.promote:
        registry.set_alias(model.name, CHAMPION, model.version, reason=decision.reason)
        project.store.models.update_version(
            model.name, model.version, stage="production", reason=decision.reason
        )
        if champion is not None:
            project.store.models.update_version(
                champion.name,
                champion.version,
                stage="archived",
                reason=f"replaced by {model.ref}",
            )
        return model.ref
    registry.set_alias(model.name, CHALLENGER, model.version, reason=decision.reason)
    return champion.ref if champion else None
