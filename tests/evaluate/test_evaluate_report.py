"""evaluate_model / EvaluationReport: end-to-end on real data, self-contained HTML, JSON export."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from evaluate_cases import Case, predictions_of
from sklearn import metrics as skm

from loopml.errors import DataError, InvalidInputError
from loopml.evaluate import EvaluationReport, evaluate_gates, evaluate_model
from loopml.reports import plotly_js

PLOTLY_MARKER = str(plotly_js())[:60]


@pytest.fixture(scope="module")
def churn_report(churn: Case) -> EvaluationReport:
    gates = evaluate_gates(
        metric="roc_auc",
        greater_is_better=True,
        score=0.84,
        min_score=0.9,
        max_latency_ms=20,
        latency_ms=5.0,
    )
    return evaluate_model(
        churn.bundle, churn.test, model_ref="churn:1", dataset_id="ds-42", gates=gates
    )


def test_churn_metrics_match_sklearn_and_have_intervals(
    churn: Case, churn_report: EvaluationReport
) -> None:
    y_true, preds = predictions_of(churn)
    y = (y_true == "Yes").to_numpy()
    assert churn_report.n_rows == len(churn.test)
    assert churn_report.metrics["roc_auc"] == pytest.approx(
        skm.roc_auc_score(y, preds["probability_Yes"])
    )
    assert churn_report.metrics["accuracy"] == pytest.approx(
        skm.accuracy_score(y_true, preds["prediction"])
    )
    assert set(churn_report.intervals) == set(churn_report.metrics)
    low, high = churn_report.intervals["roc_auc"]
    assert low <= churn_report.metrics["roc_auc"] <= high


def test_churn_curves_are_summaries_not_rows(churn_report: EvaluationReport) -> None:
    curves = churn_report.curves
    assert {"roc", "pr", "calibration", "confusion"} <= set(curves)
    assert 2 < len(curves["roc"]["fpr"]) <= 200 and len(curves["pr"]["recall"]) <= 200
    assert curves["roc"]["fpr"][0] == 0.0 and curves["roc"]["fpr"][-1] == 1.0
    assert curves["roc"]["auc"] == pytest.approx(churn_report.metrics["roc_auc"], abs=1e-9)
    assert sum(curves["calibration"]["count"]) == churn_report.n_rows
    matrix = np.asarray(curves["confusion"]["matrix"])
    assert curves["confusion"]["labels"] == ["No", "Yes"]
    assert matrix.sum() == churn_report.n_rows
    assert np.trace(matrix) / matrix.sum() == pytest.approx(churn_report.metrics["accuracy"])


def test_importance_is_in_original_columns(churn: Case, churn_report: EvaluationReport) -> None:
    importance = churn_report.importance
    names = [f["name"] for f in importance["features"]]
    assert sorted(names) == sorted(churn.bundle.feature_names)
    means = [f["mean"] for f in importance["features"]]
    assert means == sorted(means, reverse=True) and means[0] > 0.05
    assert importance["scoring"] == "roc_auc" and importance["n_rows"] == 2000


def test_html_is_self_contained_with_plotly_once_and_every_figure(
    churn_report: EvaluationReport,
) -> None:
    html = churn_report.to_html()
    assert html.count(PLOTLY_MARKER) == 1
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"<link[^>]+href=\"?https?:", html)
    for div in ("fig-roc", "fig-pr", "fig-calibration", "fig-confusion", "fig-importance"):
        assert f'id="{div}"' in html
    assert "Evaluation of churn:1" in html and "ds-42" in html
    assert 'class="fail"' in html and 'class="pass"' in html
    assert "roc_auc 0.84 is below the minimum of 0.9 by 0.06." in html


def test_json_round_trips(churn_report: EvaluationReport) -> None:
    data = json.loads(churn_report.to_json())
    assert data == churn_report.to_dict()
    assert data["model"] == "churn:1" and data["task"] == "binary" and data["passed"] is False
    assert {"metrics", "intervals", "gates", "curves", "importance"} <= set(data)
    again = EvaluationReport.from_dict(data)
    assert again.to_dict() == data
    assert again.to_html().count(PLOTLY_MARKER) == 1


def test_write_puts_html_and_json_in_the_folder(
    churn_report: EvaluationReport, tmp_path: Path
) -> None:
    html_path, json_path = churn_report.write(tmp_path / "reports" / "v1")
    assert html_path.name == "evaluation.html" and json_path.name == "evaluation.json"
    assert json.loads(json_path.read_text()) == churn_report.to_dict()
    assert html_path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in html_path.parent.iterdir()) == [
        "evaluation.html",
        "evaluation.json",
    ]


def test_repr_html_embeds_the_page_in_an_iframe(churn_report: EvaluationReport) -> None:
    shown = churn_report._repr_html_()
    assert shown.startswith("<iframe srcdoc=") and "&lt;!DOCTYPE html&gt;" in shown


def test_regression_report_on_diabetes(diabetes: Case) -> None:
    report = evaluate_model(diabetes.bundle, diabetes.test, model_ref="diabetes:1")
    y_true, preds = predictions_of(diabetes)
    assert report.metrics["rmse"] == pytest.approx(
        skm.root_mean_squared_error(y_true, preds["prediction"])
    )
    assert sum(report.curves["residual_histogram"]["count"]) == report.n_rows
    assert len(report.curves["actual_vs_predicted"]["actual"]) == report.n_rows  # < 2,000 rows
    assert report.importance["scoring"] == "neg_root_mean_squared_error"
    html = report.to_html()
    for div in ("fig-actual-vs-predicted", "fig-residuals", "fig-residual-histogram"):
        assert f'id="{div}"' in html
    assert 'id="fig-roc"' not in html
    assert html.count(PLOTLY_MARKER) == 1


def test_multiclass_report_on_penguins_skips_unlabelled_rows(penguins: Case) -> None:
    holdout = penguins.test.copy()
    holdout.loc[holdout.index[:3], "species"] = None
    report = evaluate_model(penguins.bundle, holdout, model_ref="penguins:1", intervals=False)
    assert report.n_rows == len(holdout) - 3 and report.n_unlabelled == 3
    assert report.intervals == {}
    assert {"accuracy", "f1_macro", "roc_auc", "log_loss"} <= set(report.metrics)
    assert np.asarray(report.curves["confusion"]["matrix"]).shape == (3, 3)
    assert set(report.curves["roc_per_class"]) == set(penguins.bundle.classes)
    html = report.to_html()
    assert 'id="fig-confusion"' in html and 'id="fig-roc-per-class"' in html


def test_holdout_with_one_class_does_not_crash(churn: Case) -> None:
    only_no = churn.test[churn.test["churn"] == "No"].head(300)
    report = evaluate_model(churn.bundle, only_no, model_ref="churn:1")
    assert "roc_auc" not in report.metrics and "accuracy" in report.metrics
    assert "roc" not in report.curves and "confusion" in report.curves
    assert report.importance == {}
    html = report.to_html()
    assert 'id="fig-roc"' not in html and 'id="fig-confusion"' in html


def test_unusable_holdouts_are_clear_errors(churn: Case) -> None:
    with pytest.raises(DataError, match="no target column 'churn'"):
        evaluate_model(churn.bundle, churn.test.drop(columns="churn"), model_ref="m")
    with pytest.raises(DataError, match="missing 1 column\\(s\\) the model needs: tenure"):
        evaluate_model(churn.bundle, churn.test.drop(columns="tenure"), model_ref="m")
    unlabelled = churn.test.assign(churn=None)
    with pytest.raises(DataError, match="no rows with a value in the target column"):
        evaluate_model(churn.bundle, unlabelled, model_ref="m")
    relabelled = churn.test.assign(churn="Maybe")
    with pytest.raises(InvalidInputError, match="does not know: 'Maybe'"):
        evaluate_model(churn.bundle, relabelled, model_ref="m")
