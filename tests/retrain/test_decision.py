"""The promotion rule: a challenger replaces the champion only when better by the margin."""

from __future__ import annotations

import math

from loopml.retrain import decide


def test_better_challenger_is_promoted_with_the_numbers_in_the_reason() -> None:
    decision = decide(
        metric="roc_auc",
        greater_is_better=True,
        champion_score=0.70,
        challenger_score=0.75,
        margin=0.01,
        gates_passed=True,
    )
    assert decision.promote
    assert math.isclose(decision.improvement or 0.0, 0.05)
    assert "0.7500 vs 0.7000" in decision.reason


def test_improvement_below_margin_keeps_the_champion() -> None:
    decision = decide(
        metric="roc_auc",
        greater_is_better=True,
        champion_score=0.70,
        challenger_score=0.705,
        margin=0.01,
        gates_passed=True,
    )
    assert not decision.promote
    assert "not better by the margin" in decision.reason


def test_equal_scores_never_promote_even_with_zero_margin() -> None:
    decision = decide(
        metric="roc_auc",
        greater_is_better=True,
        champion_score=0.7,
        challenger_score=0.7,
        margin=0.0,
        gates_passed=True,
    )
    assert not decision.promote


def test_lower_is_better_metrics_are_compared_in_their_direction() -> None:
    better = decide(
        metric="rmse",
        greater_is_better=False,
        champion_score=10.0,
        challenger_score=9.0,
        margin=0.5,
        gates_passed=True,
    )
    worse = decide(
        metric="rmse",
        greater_is_better=False,
        champion_score=10.0,
        challenger_score=11.0,
        margin=0.0,
        gates_passed=True,
    )
    assert better.promote and better.improvement == 1.0
    assert not worse.promote and worse.improvement == -1.0


def test_failed_gates_block_promotion_whatever_the_score() -> None:
    decision = decide(
        metric="roc_auc",
        greater_is_better=True,
        champion_score=0.5,
        challenger_score=0.99,
        margin=0.0,
        gates_passed=False,
    )
    assert not decision.promote
    assert "gates" in decision.reason


def test_undefined_scores() -> None:
    no_challenger = decide(
        metric="roc_auc",
        greater_is_better=True,
        champion_score=0.7,
        challenger_score=None,
        margin=0.0,
        gates_passed=True,
    )
    no_champion = decide(
        metric="roc_auc",
        greater_is_better=True,
        champion_score=float("nan"),
        challenger_score=0.7,
        margin=0.0,
        gates_passed=True,
    )
    assert not no_challenger.promote
    assert no_champion.promote
