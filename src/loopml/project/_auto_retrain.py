"""Unattended retraining: check the charter's triggers, retrain only when one fires.

Run after every scheduled monitor (``loopml serve``, ``loopml monitor --schedule``) when
``retraining.automatic`` is set, and by ``loopml retrain --auto`` from cron. One job at a time per
project (a file lock in the state folder), at most one per ``retraining.cooldown_hours``; each
decision to retrain or to hold back is in the audit log with the triggers' numbers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from loopml.errors import DataError
from loopml.project._project import Project
from loopml.project._retrain import (
    RetrainOutcome,
    current_champion,
    retrain,
    retrain_triggers,
)
from loopml.retrain import RetrainPlan
from loopml.retrain._lock import RetrainLock

logger = logging.getLogger("loopml.retrain")
LOCK_FILE = "retrain.lock"


@dataclass
class AutoRetrainOutcome:
    """What an automatic check did: whether it ``retrained``, the triggers' ``plan``, why it
    held back when a trigger fired (``held_back``), and the job's outcome."""

    retrained: bool
    plan: RetrainPlan | None
    held_back: str | None = None
    outcome: RetrainOutcome | None = None
    source: str | None = None
    dry_run: bool = False

    @property
    def message(self) -> str:
        """One sentence for logs and the CLI."""
        if self.plan is None:
            return f"no retraining: {self.held_back}"
        if not self.plan.retrain:
            return f"no retraining: {self.plan.reason}"
        if self.dry_run and self.held_back == "dry run":
            return f"would retrain ({self.plan.reason})"
        if not self.retrained or self.outcome is None:
            return (
                f"a trigger fired ({self.plan.reason}) but retraining held back: {self.held_back}"
            )
        decision = self.outcome.decision
        challenger = self.outcome.challenger
        verdict = decision.reason if decision else "no decision"
        name = challenger.model.ref if challenger else "no challenger"
        rollout = f"; {self.outcome.rollout.message}" if self.outcome.rollout else ""
        return f"retrained ({self.plan.reason}) on {self.source}: {name} — {verdict}{rollout}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "retrained": self.retrained,
            "dry_run": self.dry_run,
            "message": self.message,
            "held_back": self.held_back,
            "source": self.source,
            "triggers": self.plan.to_dict() if self.plan else None,
            "job": self.outcome.to_dict() if self.outcome else None,
        }


def lock_for(project: Project) -> RetrainLock:
    """The project's retraining lock (a file in its state folder)."""
    return RetrainLock(project.paths.state / LOCK_FILE)


def retrain_if_triggered(
    project: Project,
    *,
    now: datetime | None = None,
    time_budget: float | None = None,
    dry_run: bool = False,
) -> AutoRetrainOutcome:
    """Evaluate the retraining triggers on the champion's latest monitor report and, when one
    fires, run the retraining job (:func:`loopml.project.retrain`, ``automatic=True``).

    The newer labelled data is the feedback joined to the prediction log when any arrived, else
    the charter's source read again. Holds back (and says why) when there is no champion,
    another retraining holds the lock, or the last retraining is younger than
    ``retraining.cooldown_hours``. ``dry_run`` evaluates the triggers only and records nothing.

    Raises:
        LoopmlError: the retraining job itself failed (bad newer data, a failed fit); the lock
            is released.
    """
    moment = now or datetime.now(UTC)
    champion = current_champion(project)
    if champion is None:
        return AutoRetrainOutcome(False, None, held_back="there is no champion to retrain")
    plan = retrain_triggers(project, champion, on_demand=False, now=moment)
    if not plan.retrain:
        return AutoRetrainOutcome(False, plan)
    held_back = _cooling_down(project, moment)
    if dry_run:
        return AutoRetrainOutcome(False, plan, held_back=held_back or "dry run", dry_run=True)
    lock = lock_for(project)
    if held_back is None and not lock.acquire():
        held_back = "another retraining job is running"
    if held_back is not None:
        _audit(project, champion.ref, plan, held_back=held_back)
        return AutoRetrainOutcome(False, plan, held_back=held_back)
    try:
        _audit(project, champion.ref, plan)
        outcome, source = _run(project, time_budget)
    finally:
        lock.release()
    return AutoRetrainOutcome(True, plan, outcome=outcome, source=source)


def _run(project: Project, time_budget: float | None) -> tuple[RetrainOutcome, str]:
    if project.store.predictions.feedback():
        try:
            outcome = retrain(project, from_feedback=True, automatic=True, time_budget=time_budget)
            return outcome, "feedback joined to the prediction log"
        except DataError as exc:
            if "ground truth" not in exc.message:
                raise
    outcome = retrain(project, automatic=True, time_budget=time_budget)
    return outcome, "the charter's data source"


def _cooling_down(project: Project, now: datetime) -> str | None:
    hours = project.charter.retraining.cooldown_hours
    retrains = project.store.runs.list(project.name, kind="retrain", limit=1)
    if not retrains or hours <= 0:
        return None
    started = retrains[0].start_time
    if started.tzinfo is None:
        started = started.replace(tzinfo=UTC)
    if now - started >= timedelta(hours=hours):
        return None
    return (
        f"the last retraining started at {started.isoformat(timespec='seconds')}, "
        f"within the {hours:g} h cooldown"
    )


def _audit(
    project: Project, target: str, plan: RetrainPlan, *, held_back: str | None = None
) -> None:
    action = "retrain.auto.held_back" if held_back else "retrain.auto"
    reason = held_back or plan.reason
    project.store.audit.append(
        "loopml", action, target, reason=reason, details={"triggers": plan.to_dict()}
    )
    log = logger.warning if held_back is None else logger.info
    log("automatic retraining of %s: %s", target, reason)
