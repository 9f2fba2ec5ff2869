"""evaluate_gates: direction-aware acceptance criteria with one-sentence verdicts."""

from __future__ import annotations

import math

from loopml.evaluate import GateResult, evaluate_gates


def _only(results: list[GateResult]) -> GateResult:
    assert len(results) == 1
    return results[0]


def test_no_criteria_means_no_gates() -> None:
    assert evaluate_gates(metric="roc_auc", greater_is_better=True, score=0.8) == []


def test_min_score_when_greater_is_better() -> None:
    ok = _only(evaluate_gates(metric="roc_auc", greater_is_better=True, score=0.85, min_score=0.8))
    assert ok.passed and ok.value == 0.85 and ok.limit == 0.8
    assert ok.message == "roc_auc 0.85 meets the minimum of 0.8 by 0.05."
    bad = _only(evaluate_gates(metric="roc_auc", greater_is_better=True, score=0.72, min_score=0.8))
    assert not bad.passed
    assert bad.message == "roc_auc 0.72 is below the minimum of 0.8 by 0.08."
    edge = _only(evaluate_gates(metric="roc_auc", greater_is_better=True, score=0.8, min_score=0.8))
    assert edge.passed


def test_min_score_is_a_maximum_when_lower_is_better() -> None:
    ok = _only(evaluate_gates(metric="rmse", greater_is_better=False, score=45.0, min_score=50.0))
    assert ok.passed
    assert ok.message == "rmse 45 meets the maximum of 50 by 5."
    bad = _only(evaluate_gates(metric="rmse", greater_is_better=False, score=55.5, min_score=50.0))
    assert not bad.passed
    assert bad.message == "rmse 55.5 is above the maximum of 50 by 5.5."


def test_margin_over_baseline_in_both_directions() -> None:
    up = _only(
        evaluate_gates(
            metric="roc_auc",
            greater_is_better=True,
            score=0.8,
            baseline_score=0.5,
            min_margin_over_baseline=0.1,
        )
    )
    assert up.passed and math.isclose(up.value or 0, 0.3) and up.limit == 0.1
    assert up.message == (
        "roc_auc 0.8 improves on the baseline's 0.5 by 0.3, meeting the required margin of 0.1."
    )
    down = _only(
        evaluate_gates(
            metric="rmse",
            greater_is_better=False,
            score=48.0,
            baseline_score=50.0,
            min_margin_over_baseline=5.0,
        )
    )
    assert not down.passed and down.value == 2.0
    assert down.message == (
        "rmse 48 improves on the baseline's 50 by 2, short of the required margin of 5 by 3."
    )
    worse = _only(
        evaluate_gates(
            metric="rmse",
            greater_is_better=False,
            score=60.0,
            baseline_score=50.0,
            min_margin_over_baseline=0.0,
        )
    )
    assert not worse.passed and worse.value == -10.0


def test_margin_without_a_baseline_fails_clearly() -> None:
    gate = _only(
        evaluate_gates(
            metric="f1", greater_is_better=True, score=0.7, min_margin_over_baseline=0.05
        )
    )
    assert not gate.passed and gate.value is None
    assert gate.message.startswith("The baseline's score on f1 is not available")


def test_latency_gate() -> None:
    kwargs = {"metric": "f1", "greater_is_better": True, "score": 0.7, "max_latency_ms": 50.0}
    ok = _only(evaluate_gates(**kwargs, latency_ms=12.5))  # type: ignore[arg-type]
    assert ok.passed and ok.message == "Latency 12.5 ms is within the maximum of 50 ms by 37.5 ms."
    slow = _only(evaluate_gates(**kwargs, latency_ms=80.0))  # type: ignore[arg-type]
    assert (
        not slow.passed and slow.message == "Latency 80 ms exceeds the maximum of 50 ms by 30 ms."
    )
    unmeasured = _only(evaluate_gates(**kwargs))  # type: ignore[arg-type]
    assert not unmeasured.passed and unmeasured.value is None
    assert unmeasured.message.startswith("Latency was not measured")


def test_missing_score_fails_every_score_gate() -> None:
    results = evaluate_gates(
        metric="roc_auc",
        greater_is_better=True,
        score=math.nan,
        baseline_score=0.5,
        min_score=0.7,
        min_margin_over_baseline=0.1,
    )
    assert [g.name for g in results] == ["min_score", "margin_over_baseline"]
    assert not any(g.passed for g in results)
    assert "roc_auc could not be computed" in results[0].message


def test_gate_result_round_trips_through_dict() -> None:
    results = evaluate_gates(
        metric="rmse", greater_is_better=False, score=4.0, min_score=5.0, max_latency_ms=10.0
    )
    assert [GateResult.from_dict(g.to_dict()) for g in results] == results
    assert results[1].to_dict() == {
        "name": "max_latency_ms",
        "passed": False,
        "value": None,
        "limit": 10.0,
        "message": results[1].message,
    }
