"""Acceptance gates: does a model meet the charter's criteria before it may be promoted?

Gates are direction-aware. ``min_score`` is the *target score*: for a metric where greater is
better (``roc_auc``) the model must score at least that much; where lower is better (``rmse``) it
must score at most that much. ``min_margin_over_baseline`` is the required improvement over the
baseline, in the metric's own units and in the improving direction.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class GateResult:
    """The outcome of one acceptance criterion.

    Attributes:
        name: ``min_score``, ``margin_over_baseline``, ``max_latency_ms``, or a fairness limit
            with its attribute (``max_demographic_parity_difference:sex``).
        passed: whether the criterion is met.
        value: the measured quantity (score, improvement over baseline, latency), if any.
        limit: the criterion's threshold.
        message: one sentence saying which criterion passed or failed, and by how much.
    """

    name: str
    passed: bool
    value: float | None
    limit: float | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GateResult:
        return cls(
            name=str(data["name"]),
            passed=bool(data["passed"]),
            value=None if data.get("value") is None else float(data["value"]),
            limit=None if data.get("limit") is None else float(data["limit"]),
            message=str(data["message"]),
        )


def _num(value: float) -> str:
    return f"{value:.4g}"


def _missing(value: float | None) -> bool:
    return value is None or not math.isfinite(value)


def evaluate_gates(
    *,
    metric: str,
    greater_is_better: bool,
    score: float | None,
    baseline_score: float | None = None,
    min_score: float | None = None,
    min_margin_over_baseline: float | None = None,
    max_latency_ms: float | None = None,
    latency_ms: float | None = None,
    fairness: dict[str, Any] | None = None,
    task: str = "binary",
    max_demographic_parity_difference: float | None = None,
    max_equalized_odds_difference: float | None = None,
    min_disparate_impact_ratio: float | None = None,
) -> list[GateResult]:
    """Check each configured criterion; a criterion left ``None`` is not evaluated.

    A score, baseline or latency needed by a configured criterion but missing (``None``/NaN)
    makes that gate fail with a message saying what was not measured. The fairness limits are
    checked on ``fairness`` (``EvaluationReport.fairness``) for each sensitive attribute of a
    ``task`` model; see :func:`loopml.evaluate._fairness_gates.fairness_gates`.
    """
    from loopml.evaluate._fairness_gates import fairness_gates

    results: list[GateResult] = []
    if min_score is not None:
        results.append(_score_gate(metric, greater_is_better, score, min_score))
    if min_margin_over_baseline is not None:
        results.append(
            _margin_gate(metric, greater_is_better, score, baseline_score, min_margin_over_baseline)
        )
    if max_latency_ms is not None:
        results.append(_latency_gate(latency_ms, max_latency_ms))
    results += fairness_gates(
        fairness,
        task=task,
        max_demographic_parity_difference=max_demographic_parity_difference,
        max_equalized_odds_difference=max_equalized_odds_difference,
        min_disparate_impact_ratio=min_disparate_impact_ratio,
    )
    return results


def _score_gate(metric: str, greater: bool, score: float | None, target: float) -> GateResult:
    name, kind = "min_score", "minimum" if greater else "maximum"
    if _missing(score):
        return GateResult(
            name,
            False,
            None,
            target,
            f"{metric} could not be computed, so the {kind} of {_num(target)} is not met.",
        )
    assert score is not None
    gap = score - target if greater else target - score
    if gap >= 0:
        message = f"{metric} {_num(score)} meets the {kind} of {_num(target)} by {_num(gap)}."
    else:
        side = "below the minimum" if greater else "above the maximum"
        message = f"{metric} {_num(score)} is {side} of {_num(target)} by {_num(-gap)}."
    return GateResult(name, gap >= 0, score, target, message)


def _margin_gate(
    metric: str, greater: bool, score: float | None, baseline: float | None, margin: float
) -> GateResult:
    name = "margin_over_baseline"
    if _missing(score) or _missing(baseline):
        what = "The model's score" if _missing(score) else "The baseline's score"
        return GateResult(
            name,
            False,
            None,
            margin,
            f"{what} on {metric} is not available, so "
            f"the required margin of {_num(margin)} over the baseline cannot be met.",
        )
    assert score is not None and baseline is not None
    improvement = score - baseline if greater else baseline - score
    head = (
        f"{metric} {_num(score)} improves on the baseline's {_num(baseline)} by {_num(improvement)}"
    )
    if improvement >= margin:
        message = f"{head}, meeting the required margin of {_num(margin)}."
    else:
        message = (
            f"{head}, short of the required margin of {_num(margin)} by "
            f"{_num(margin - improvement)}."
        )
    return GateResult(name, improvement >= margin, improvement, margin, message)


def _latency_gate(latency: float | None, limit: float) -> GateResult:
    name = "max_latency_ms"
    if _missing(latency):
        return GateResult(
            name,
            False,
            None,
            limit,
            "Latency was not measured, so the maximum "
            f"latency of {_num(limit)} ms cannot be checked.",
        )
    assert latency is not None
    if latency <= limit:
        message = (
            f"Latency {_num(latency)} ms is within the maximum of {_num(limit)} ms "
            f"by {_num(limit - latency)} ms."
        )
    else:
        message = (
            f"Latency {_num(latency)} ms exceeds the maximum of {_num(limit)} ms by "
            f"{_num(latency - limit)} ms."
        )
    return GateResult(name, latency <= limit, latency, limit, message)
