"""The retraining policy of the charter: its triggers and the data window it trains on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

from loopml.charter._model import DataWindowSpec, RetrainingSpec
from loopml.errors import DataError
from loopml.retrain._triggers import (
    DriftTrigger,
    PerformanceTrigger,
    RetrainTrigger,
    ScheduleTrigger,
    TriggerResult,
)


@dataclass(frozen=True)
class RetrainPlan:
    """Whether to retrain now, and every trigger's verdict (``on demand`` when asked)."""

    retrain: bool
    triggers: list[TriggerResult] = field(default_factory=list)

    @property
    def fired(self) -> list[TriggerResult]:
        return [t for t in self.triggers if t.fired]

    @property
    def reason(self) -> str:
        if not self.triggers:
            return "no trigger is configured"
        if self.fired:
            return "; ".join(f"{t.trigger}: {t.reason}" for t in self.fired)
        return (
            "no trigger fired ("
            + "; ".join(f"{t.trigger}: {t.reason}" for t in self.triggers)
            + ")"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "retrain": self.retrain,
            "reason": self.reason,
            "triggers": [t.to_dict() for t in self.triggers],
        }


@dataclass
class RetrainPolicy:
    """Triggers checked in order; retrain when any fires (or on demand)."""

    triggers: Sequence[RetrainTrigger] = ()

    @classmethod
    def from_spec(cls, spec: RetrainingSpec) -> RetrainPolicy:
        """The policy of the charter's ``retraining.triggers`` section."""
        t = spec.triggers
        triggers: list[RetrainTrigger] = []
        if t.schedule:
            triggers.append(ScheduleTrigger(t.schedule))
        if t.drift_share is not None or t.drift_features:
            triggers.append(DriftTrigger(t.drift_share, t.drift_features))
        if t.performance_metric is not None and t.performance_threshold is not None:
            triggers.append(PerformanceTrigger(t.performance_metric, t.performance_threshold))
        return cls(triggers)

    def evaluate(
        self,
        summary: Mapping[str, Any] | None,
        *,
        last_retrain: datetime | None = None,
        now: datetime | None = None,
        on_demand: bool = False,
    ) -> RetrainPlan:
        """Ask every trigger; ``on_demand`` (``loopml retrain``) retrains whatever they say."""
        moment = now or datetime.now(UTC)
        results = [t.check(summary, last_retrain, moment) for t in self.triggers]
        if on_demand:
            results.append(TriggerResult("on_demand", True, "asked for by `loopml retrain`"))
        return RetrainPlan(any(r.fired for r in results), results)


def select_window(
    frame: pd.DataFrame, spec: DataWindowSpec, *, time_column: str | None = None
) -> tuple[pd.DataFrame, str]:
    """The rows a retraining trains on, and a sentence saying which.

    ``all``: every row. ``last_days``: rows within ``days`` before the newest ``time_column``
    value. ``sliding``: the newest ``rows`` rows (by ``time_column``, else by position).
    ``sample``: a seeded random sample of ``rows`` rows (all when there are fewer).

    Raises:
        DataError: ``last_days`` without a time column, or a window that leaves no row.
    """
    if spec.kind == "all":
        return frame, f"all {len(frame)} rows"
    if spec.kind == "sample":
        n = min(int(spec.rows or 0), len(frame))
        return frame.sample(n=n, random_state=spec.seed).sort_index(), (
            f"a random sample of {n} of {len(frame)} rows (seed {spec.seed})"
        )
    ordered = frame
    if time_column is not None and time_column in frame.columns:
        times = pd.to_datetime(frame[time_column], utc=True, errors="coerce")
        ordered = frame.iloc[times.argsort(kind="stable")]
    if spec.kind == "sliding":
        chosen = ordered.tail(int(spec.rows or 0))
        return chosen, f"the newest {len(chosen)} of {len(frame)} rows"
    if time_column is None or time_column not in frame.columns:
        raise DataError(
            "A 'last_days' data window needs a time column.",
            hint="Set columns.time in loopml.yaml, or use a 'sliding' window of rows.",
        )
    times = pd.to_datetime(frame[time_column], utc=True, errors="coerce")
    start = times.max() - timedelta(days=int(spec.days or 0))
    chosen = frame[(times >= start).to_numpy()]
    if chosen.empty:
        raise DataError(f"The last {spec.days} days hold no row with a valid {time_column!r}.")
    return chosen, (
        f"the {len(chosen)} rows of the last {spec.days} days "
        f"(since {start.date().isoformat()}) of {len(frame)}"
    )
