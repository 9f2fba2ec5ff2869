"""Retraining triggers: each one small class that says whether it fires, and why.

A trigger reads the latest monitor summary (the dict ``loopml monitor`` stores: every number
an alert rule can name, plus ``drifted``, the drifted features) and the time of the last
retraining. The policy (:mod:`loopml.retrain._policy`) asks each of its triggers in turn.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from loopml.errors import InvalidInputError
from loopml.evaluate import GREATER_IS_BETTER

_WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]


def _weekday_field(field: str) -> str:
    """Crontab weekday numbers (0 or 7 = Sunday, 1 = Monday) as names: APScheduler reads
    numbers as 0 = Monday, which would shift every numeric schedule by a day."""
    if field == "*" or field.startswith("*/") or any(c.isalpha() for c in field):
        return field
    days: list[str] = []
    for part in field.split(","):
        span, _, step = part.partition("/")
        first, _, last = span.partition("-")
        numbers = range(int(first), int(last or first) + 1, int(step or 1))
        days += [_WEEKDAYS[n % 7] for n in numbers if _WEEKDAYS[n % 7] not in days]
    return ",".join(days)


def cron_trigger(expression: str) -> Any:
    """The APScheduler trigger (UTC) of a standard 5-field crontab ``expression``.

    Raises:
        InvalidInputError: not a valid crontab expression.
    """
    from apscheduler.triggers.cron import CronTrigger

    fields = expression.split()
    try:
        if len(fields) != 5:
            raise ValueError(f"wrong number of fields; got {len(fields)}, expected 5")
        fields[4] = _weekday_field(fields[4])
        return CronTrigger.from_crontab(" ".join(fields), timezone="UTC")
    except (ValueError, IndexError) as exc:
        raise InvalidInputError(
            f"{expression!r} is not a cron expression: {exc}.",
            hint="Five fields: minute hour day month weekday, e.g. '*/15 * * * *' or '0 3 * * 1'.",
        ) from exc


@dataclass(frozen=True)
class TriggerResult:
    """One trigger's verdict: ``fired`` and a sentence with the numbers."""

    trigger: str
    fired: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"trigger": self.trigger, "fired": self.fired, "reason": self.reason}


class RetrainTrigger(abc.ABC):
    """Decides from the latest monitor ``summary`` (None: never monitored), the time of the
    last retraining (None: never) and ``now`` whether to retrain. Pure: no I/O."""

    name: str = ""

    @abc.abstractmethod
    def check(
        self, summary: Mapping[str, Any] | None, last_retrain: datetime | None, now: datetime
    ) -> TriggerResult:
        """The verdict of this trigger."""


class ScheduleTrigger(RetrainTrigger):
    """Fires when a time of the cron ``expression`` (UTC) has passed since the last
    retraining (or, never retrained, since ``start``)."""

    name = "schedule"

    def __init__(self, expression: str) -> None:
        self._cron = cron_trigger(expression)
        self.expression = expression

    def check(
        self, summary: Mapping[str, Any] | None, last_retrain: datetime | None, now: datetime
    ) -> TriggerResult:
        if last_retrain is None:
            return TriggerResult(self.name, True, "the model was never retrained")
        due = self._cron.get_next_fire_time(None, last_retrain)
        if due is not None and due <= now:
            return TriggerResult(
                self.name, True, f"scheduled ({self.expression}) at {due.isoformat()}"
            )
        upcoming = due.isoformat() if due is not None else "never"
        return TriggerResult(self.name, False, f"next scheduled run at {upcoming}")


class DriftTrigger(RetrainTrigger):
    """Fires when at least ``share`` of the features drifted, or any of ``features`` did."""

    name = "drift"

    def __init__(self, share: float | None = None, features: Sequence[str] = ()) -> None:
        self.share, self.features = share, list(features)

    def check(
        self, summary: Mapping[str, Any] | None, last_retrain: datetime | None, now: datetime
    ) -> TriggerResult:
        if summary is None:
            return TriggerResult(self.name, False, "no monitor report yet")
        drifted = [str(c) for c in summary.get("drifted", [])]
        watched = [c for c in self.features if c in drifted]
        if watched:
            return TriggerResult(
                self.name, True, f"watched feature(s) drifted: {', '.join(watched)}"
            )
        share = float(summary.get("share_drifted", 0.0))
        if self.share is not None and share >= self.share:
            return TriggerResult(
                self.name, True, f"{share:.0%} of features drifted (trigger at {self.share:.0%})"
            )
        return TriggerResult(self.name, False, f"{share:.0%} of features drifted")


class PerformanceTrigger(RetrainTrigger):
    """Fires when ``metric`` (``estimated_roc_auc``, ``realized_accuracy`` …) is worse than
    ``threshold``: below it when higher is better, above it otherwise."""

    name = "performance"

    def __init__(self, metric: str, threshold: float) -> None:
        base = metric.split("_", 1)[1] if metric.startswith(("estimated_", "realized_")) else metric
        self.metric, self.threshold = metric, threshold
        self.greater_is_better = GREATER_IS_BETTER.get(base, True)

    def check(
        self, summary: Mapping[str, Any] | None, last_retrain: datetime | None, now: datetime
    ) -> TriggerResult:
        value = (summary or {}).get(self.metric)
        if value is None:
            return TriggerResult(self.name, False, f"the last monitor report has no {self.metric}")
        worse = value < self.threshold if self.greater_is_better else value > self.threshold
        relation = ("below" if self.greater_is_better else "above") if worse else "within"
        return TriggerResult(
            self.name, worse, f"{self.metric} = {value:.4f}, {relation} threshold {self.threshold}"
        )
