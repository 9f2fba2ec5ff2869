"""Per-arm facts of a deployment, read from the prediction log and its feedback."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from loopml.project._project import Project
from loopml.serve._rollout_stats import percentile, psi
from loopml.serve._routing import SHADOW_SUFFIX, compile_policy
from loopml.store import PredictionRecord


@dataclass
class ArmStats:
    """What one arm served: its records, their scores, latencies and labelled outcomes."""

    records: list[PredictionRecord] = field(default_factory=list)
    labels: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.records)

    @property
    def latencies(self) -> list[float]:
        return [r.latency_ms for r in self.records]

    @property
    def scores(self) -> list[float]:
        """One number per record: the last class probability (sorted by name), else the
        prediction; compared across arms by PSI."""
        return [_score(r.outputs) for r in self.records]

    @property
    def outcomes(self) -> list[float]:
        """Per labelled record: 1/0 for a correct/incorrect class, minus the absolute error of
        a regression."""
        found = []
        for record in self.records:
            label = self.labels.get(_base_id(record.request_id))
            if label is not None:
                found.append(_outcome(record.outputs.get("prediction"), label))
        return found

    def labelled(self) -> list[tuple[Any, Any]]:
        """``(prediction, label)`` of each record that received feedback."""
        found = []
        for record in self.records:
            label = self.labels.get(_base_id(record.request_id))
            if label is not None:
                found.append((record.outputs.get("prediction"), label))
        return found

    def summary(self) -> dict[str, Any]:
        outcomes = self.outcomes
        return {
            "requests": self.n,
            "p50_ms": percentile(self.latencies, 50),
            "p99_ms": percentile(self.latencies, 99),
            "feedback": len(outcomes),
            "metric": float(np.mean(outcomes)) if outcomes else None,
        }

    def compare(self, other: ArmStats) -> dict[str, Any]:
        """Agreement with ``other`` on the same requests (shadow ids joined to primary ids)."""
        theirs = {r.request_id: r.outputs for r in other.records}
        pairs = [
            (r.outputs, theirs[_base_id(r.request_id)])
            for r in self.records
            if _base_id(r.request_id) in theirs
        ]
        if not pairs:
            return {"compared": 0, "agreement": None, "mean_score_difference": None}
        agree = [a.get("prediction") == b.get("prediction") for a, b in pairs]
        diffs = [abs(_score(a) - _score(b)) for a, b in pairs]
        return {
            "compared": len(pairs),
            "agreement": float(np.mean(agree)),
            "mean_score_difference": float(np.mean(diffs)),
            "psi": psi([_score(b) for _, b in pairs], [_score(a) for a, _ in pairs]),
        }


def arm_stats(
    project: Project, name: str, policy: dict[str, Any], *, since: str | None = None
) -> dict[str, ArmStats]:
    """Each arm's logged records of deployment ``name`` since ``since`` (ISO time), with labels."""
    _, arms = compile_policy(policy)
    start = datetime.fromisoformat(since) if since else None
    stats = {arm: ArmStats() for arm in arms}
    seen: set[tuple[str, int]] = set()
    for ref in arms.values():
        version = project.registry.get(ref)
        key = (version.name, version.version)
        if key in seen:
            continue
        seen.add(key)
        for record in project.store.predictions.list(
            model_name=key[0], model_version=key[1], since=start
        ):
            prefix, _, arm = record.deployment.partition("/")
            if prefix == name and arm in stats:
                stats[arm].records.append(record)
    ids = [_base_id(r.request_id) for s in stats.values() for r in s.records]
    labels = {k: f.label for k, f in project.store.predictions.feedback(ids).items()} if ids else {}
    for arm_stat in stats.values():
        arm_stat.labels = labels
    return stats


def live_ref(policy: dict[str, Any]) -> str:
    """The model reference that answers most traffic of a stored policy."""
    kind = policy.get("kind")
    if kind == "single":
        return str(policy["model"])
    if kind == "blue-green":
        return str(policy[policy["live"]])
    if kind == "canary":
        return str(policy["candidate" if policy.get("status") == "promoted" else "stable"])
    if kind == "shadow":
        return str(policy["primary"])
    if kind == "ab":
        return str(policy[policy.get("winner") or "a"])
    shares = policy.get("allocation") or {}
    arms = policy["arms"]
    best = max(arms, key=lambda arm: float(shares.get(arm, 0.0))) if shares else next(iter(arms))
    return str(arms[best])


def guardrail_checks(
    stats: dict[str, ArmStats], failures: dict[str, tuple[int, int]], limits: dict[str, Any]
) -> list[dict[str, Any]]:
    """The canary's guardrails, each ``{name, value, limit, breached}``.

    ``failure_rate_increase``: the candidate's failure share minus the stable one's, from
    ``failures`` (``{arm: (requests, failures)}`` of every serving worker). ``p99_ms``: the
    candidate's p99 latency. ``prediction_psi``: PSI of candidate scores against stable scores.
    ``metric_drop``: stable metric minus candidate metric, once
    each arm has ``min_feedback`` labels.
    """
    stable, candidate = stats["stable"], stats["candidate"]
    checks: list[dict[str, Any]] = []

    def add(check: str, value: float | None, limit: float | None) -> None:
        if value is not None and limit is not None:
            checks.append(
                {"name": check, "value": value, "limit": limit, "breached": value > limit}
            )

    rates = {arm: (f / n if n else 0.0) for arm, (n, f) in failures.items()}
    if "candidate" in failures:
        add(
            "failure_rate_increase",
            rates["candidate"] - rates.get("stable", 0.0),
            limits.get("max_error_rate"),
        )
    add("p99_ms", percentile(candidate.latencies, 99), limits.get("max_p99_ms"))
    if stable.n:
        add("prediction_psi", psi(stable.scores, candidate.scores), limits.get("max_psi"))
    ours, theirs = candidate.outcomes, stable.outcomes
    enough = int(limits.get("min_feedback", 30))
    if len(ours) >= enough and len(theirs) >= enough:
        add("metric_drop", float(np.mean(theirs) - np.mean(ours)), limits.get("max_metric_drop"))
    return checks


def _score(outputs: dict[str, Any]) -> float:
    probabilities = sorted(k for k in outputs if k.startswith("probability_"))
    value = outputs[probabilities[-1]] if probabilities else outputs.get("prediction")
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")


def _outcome(prediction: Any, label: Any) -> float:
    if isinstance(prediction, int | float) and not isinstance(prediction, bool):
        try:
            return -abs(float(prediction) - float(label))
        except (TypeError, ValueError):
            return 0.0
    return 1.0 if str(prediction) == str(label) else 0.0


def _base_id(request_id: str) -> str:
    return request_id.removesuffix(SHADOW_SUFFIX)
