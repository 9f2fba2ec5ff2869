"""Fairness: per-group metrics with Fairlearn, summaries, the four-fifths rule, and gates."""

from __future__ import annotations

import json

import numpy as np
import pytest
from evaluate_cases import Case

from loopml.evaluate import EvaluationReport, evaluate_gates, evaluate_model
from loopml.train import ModelBundle


def _with_sensitive(case: Case, *names: str) -> ModelBundle:
    contract = case.bundle.contract.model_copy(deep=True)
    for column in contract.columns:
        column.sensitive = column.name in names
    b = case.bundle
    return ModelBundle(b.pipeline, contract, b.task, b.classes, b.positive_class, family=b.family)


@pytest.fixture(scope="module")
def fair_report(churn: Case) -> EvaluationReport:
    bundle = _with_sensitive(churn, "senior_citizen", "tenure")
    return evaluate_model(
        bundle, churn.test, model_ref="churn:1", intervals=False, importance=False, slices=False
    )


def _attribute(report: EvaluationReport, name: str) -> dict:
    return next(a for a in report.fairness["attributes"] if a["name"] == name)


def test_per_group_rates_and_summaries_match_the_predictions(
    churn: Case, fair_report: EvaluationReport
) -> None:
    predicted = churn.bundle.predict_frame(churn.test)["prediction"].eq("Yes").to_numpy()
    actual = churn.test["churn"].eq("Yes").to_numpy()
    groups = churn.test["senior_citizen"].astype(str).to_numpy()
    senior = _attribute(fair_report, "senior_citizen")
    rates, tprs, fprs = {}, {}, {}
    for g in senior["groups"]:
        rows = groups == g["group"]
        rates[g["group"]] = predicted[rows].mean()
        tprs[g["group"]] = predicted[rows & actual].mean()
        fprs[g["group"]] = predicted[rows & ~actual].mean()
        assert g["count"] == rows.sum()
        assert g["selection_rate"] == pytest.approx(rates[g["group"]])
        assert g["tpr"] == pytest.approx(tprs[g["group"]])
        assert g["fpr"] == pytest.approx(fprs[g["group"]])
    assert senior["demographic_parity_difference"] == pytest.approx(
        max(rates.values()) - min(rates.values())
    )
    ratio = min(rates.values()) / max(rates.values())
    assert senior["disparate_impact_ratio"] == pytest.approx(ratio)
    assert senior["four_fifths_rule"] is bool(ratio >= 0.8)
    spread = max(max(tprs.values()) - min(tprs.values()), max(fprs.values()) - min(fprs.values()))
    assert senior["equalized_odds_difference"] == pytest.approx(spread)
    assert senior["lowest_selection_group"] == min(rates, key=rates.get)


def test_numeric_attributes_are_binned_in_order_and_intersections_reported(
    fair_report: EvaluationReport,
) -> None:
    tenure = _attribute(fair_report, "tenure")
    assert tenure["binned"] == ["tenure"]
    lows = [float(g["group"].strip("[]()").split(",")[0]) for g in tenure["groups"]]
    assert len(lows) == 4 and lows == sorted(lows)
    both = _attribute(fair_report, "senior_citizen & tenure")
    assert both["columns"] == ["senior_citizen", "tenure"]
    assert sum(g["count"] for g in both["groups"]) == fair_report.n_rows
    assert fair_report.fairness["missing_columns"] == []


def test_small_groups_are_flagged_and_left_out_of_the_summary(churn: Case) -> None:
    test = churn.test.copy()
    test["region"] = np.where(np.arange(len(test)) < 10, "tiny", "big")
    test.loc[test.index[10 : len(test) // 2], "region"] = "other"
    contract = churn.bundle.contract.model_copy(deep=True)
    from loopml.data import ColumnSpec

    contract.columns.append(ColumnSpec(name="region", dtype="category", role="ignore"))
    contract.columns[-1].sensitive = True
    b = churn.bundle
    bundle = ModelBundle(b.pipeline, contract, b.task, b.classes, b.positive_class)
    report = evaluate_model(
        bundle,
        test,
        model_ref="m",
        intervals=False,
        importance=False,
        slices=False,
        explanations=False,
    )
    region = _attribute(report, "region")
    tiny = next(g for g in region["groups"] if g["group"] == "tiny")
    assert tiny["small"] and region["n_small_groups"] == 1
    rates = [g["selection_rate"] for g in region["groups"] if not g["small"]]
    assert region["demographic_parity_difference"] == pytest.approx(max(rates) - min(rates))


def test_fairness_limits_become_gates_with_numbers(fair_report: EvaluationReport) -> None:
    gates = evaluate_gates(
        metric="roc_auc",
        greater_is_better=True,
        score=0.8,
        min_margin_over_baseline=None,
        fairness=fair_report.fairness,
        max_demographic_parity_difference=0.1,
        min_disparate_impact_ratio=0.8,
    )
    senior = _attribute(fair_report, "senior_citizen")
    dp = next(g for g in gates if g.name == "max_demographic_parity_difference:senior_citizen")
    value = senior["demographic_parity_difference"]
    assert dp.passed is (value <= 0.1) and dp.value == pytest.approx(value) and dp.limit == 0.1
    if not dp.passed:
        assert f"above the limit 0.1 by {value - 0.1:.4g}" in dp.message
    names = {g.name for g in gates}
    assert "min_disparate_impact_ratio:tenure" in names
    assert not any("&" in n for n in names)  # intersections are reported, not gated


def test_a_limit_without_sensitive_columns_fails_and_says_why() -> None:
    gates = evaluate_gates(
        metric="rmse",
        greater_is_better=False,
        score=1.0,
        min_margin_over_baseline=None,
        fairness={},
        max_equalized_odds_difference=0.1,
    )
    assert len(gates) == 1 and not gates[0].passed
    assert "no sensitive column" in gates[0].message
    regression = evaluate_gates(
        metric="rmse",
        greater_is_better=False,
        score=1.0,
        task="regression",
        min_margin_over_baseline=None,
        max_demographic_parity_difference=0.1,
    )
    assert "regression" in regression[0].message and not regression[0].passed


def test_regression_groups_report_errors(diabetes: Case) -> None:
    contract = diabetes.bundle.contract.model_copy(deep=True)
    for column in contract.columns:
        column.sensitive = column.name == "sex"
    b = diabetes.bundle
    report = evaluate_model(
        ModelBundle(b.pipeline, contract, b.task),
        diabetes.test,
        model_ref="d",
        intervals=False,
        importance=False,
        slices=False,
        explanations=False,
    )
    sex = _attribute(report, "sex")
    errors = (b.predict_frame(diabetes.test)["prediction"] - diabetes.test["target"]).abs()
    by_group = errors.groupby(diabetes.test["sex"].map(lambda v: f"{v:.4g}")).mean()
    for g in sex["groups"]:
        assert g["mae"] == pytest.approx(by_group[g["group"]])
    assert "demographic_parity_difference" not in sex


def test_fairness_round_trips_and_renders(fair_report: EvaluationReport) -> None:
    again = EvaluationReport.from_dict(json.loads(fair_report.to_json()))
    assert again.fairness == json.loads(fair_report.to_json())["fairness"]
    html = fair_report.to_html()
    assert 'id="fairness"' in html and "fig-fairness-0" in html and "fig-fairness-1" in html
