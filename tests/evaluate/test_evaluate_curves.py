"""Metric-vs-threshold and cumulative gain/lift summaries: exact numbers on hand-made scores,
and their figures in the evaluation report."""

from __future__ import annotations

import json

import numpy as np
import pytest
from evaluate_cases import Case

from loopml.evaluate import evaluate_model
from loopml.evaluate._curves import MAX_CURVE_POINTS, cumulative_gain, threshold_metrics

# 20 rows ranked by score (highest first); positives at ranks 1, 3, 4, 8, 15 -> base rate 0.25.
SCORE = np.linspace(0.975, 0.025, 20)
Y = np.zeros(20, dtype=bool)
Y[[0, 2, 3, 7, 14]] = True


def test_gain_reaches_one_and_lift_at_top_decile_is_rate_over_base_rate() -> None:
    gain = cumulative_gain(Y, SCORE)
    assert gain["base_rate"] == pytest.approx(0.25)
    assert gain["fraction"][-1] == 1.0 and gain["gain"][-1] == 1.0 and gain["lift"][-1] == 1.0
    decile = gain["fraction"].index(0.1)  # top 2 rows: one positive
    assert gain["gain"][decile] == pytest.approx(1 / 5)
    assert gain["lift"][decile] == pytest.approx((1 / 2) / 0.25)
    quarter = gain["fraction"].index(0.25)  # top 5 rows: three positives
    assert gain["gain"][quarter] == pytest.approx(3 / 5)
    assert gain["lift"][quarter] == pytest.approx((3 / 5) / 0.25)
    assert np.all(np.diff(gain["gain"]) >= 0)


def test_gain_is_a_summary_on_large_data() -> None:
    rng = np.random.default_rng(0)
    y = rng.random(50_000) < 0.1
    gain = cumulative_gain(y, rng.random(50_000) + y)
    assert len(gain["fraction"]) <= MAX_CURVE_POINTS and gain["gain"][-1] == 1.0
    assert gain["lift"][0] > 5  # a good ranking concentrates positives at the top


def test_threshold_metrics_match_the_rule_score_at_least_threshold() -> None:
    data = threshold_metrics(Y, SCORE)
    assert len(data["threshold"]) <= MAX_CURVE_POINTS
    at = data["threshold"].index(0.5)  # rows with score >= 0.5: top 10, 4 positives
    assert data["precision"][at] == pytest.approx(4 / 10)
    assert data["recall"][at] == pytest.approx(4 / 5)
    assert data["f1"][at] == pytest.approx(2 * 0.4 * 0.8 / 1.2)
    assert data["predicted_positive_rate"][at] == pytest.approx(0.5)
    assert data["threshold"][0] == 0.0 and data["recall"][0] == 1.0
    assert data["precision"][0] == pytest.approx(0.25)
    # No row scores 1.0: precision is undefined there, not zero.
    assert data["precision"][-1] is None and data["recall"][-1] == 0.0


def test_binary_report_holds_and_draws_threshold_gain_and_lift(churn: Case) -> None:
    report = evaluate_model(
        churn.bundle,
        churn.test,
        model_ref="churn:1",
        intervals=False,
        importance=False,
        fairness=False,
        slices=False,
        explanations=False,
    )
    data = json.loads(report.to_json())
    assert {"threshold_metrics", "gain"} <= set(data["curves"])
    assert data["curves"]["gain"]["gain"][-1] == 1.0
    html = report.to_html()
    for div in ("fig-threshold", "fig-gain", "fig-lift"):
        assert f'id="{div}"' in html
    assert f"chosen {churn.bundle.threshold:.3f}" in html


def test_regression_report_has_no_threshold_or_gain_figures(diabetes: Case) -> None:
    report = evaluate_model(
        diabetes.bundle,
        diabetes.test,
        model_ref="diabetes:1",
        intervals=False,
        importance=False,
        fairness=False,
        slices=False,
        explanations=False,
    )
    assert "gain" not in report.curves and 'id="fig-gain"' not in report.to_html()
