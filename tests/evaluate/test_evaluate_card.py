"""Model card: every section, derived limitations, Markdown and HTML written next to the report."""

from __future__ import annotations

from pathlib import Path

from evaluate_cases import Case

from loopml.evaluate import ModelCard, evaluate_gates, evaluate_model
from loopml.train import ModelBundle


def test_card_has_every_section_and_derives_limitations(churn: Case, tmp_path: Path) -> None:
    contract = churn.bundle.contract.model_copy(deep=True)
    for column in contract.columns:
        column.sensitive = column.name == "senior_citizen"
    b = churn.bundle
    bundle = ModelBundle(b.pipeline, contract, b.task, b.classes, b.positive_class, family="linear")
    report = evaluate_model(bundle, churn.test, model_ref="churn:3", importance=False)
    report.gates = evaluate_gates(
        metric="roc_auc",
        greater_is_better=True,
        score=report.metrics["roc_auc"],
        min_score=0.99,
        min_margin_over_baseline=None,
    )
    card = ModelCard(
        report,
        family="linear",
        problem="Who will cancel?",
        kpi="retained revenue",
        metric="roc_auc",
        target="churn",
        dataset_id="ds1",
        dataset_rows=7043,
        period=("2020-01-01", "2020-12-31"),
        train_rows=4930,
        run_id="run-9",
        git_commit="abc123",
        git_dirty=True,
        drift_prone=["tenure"],
    )
    text = card.to_markdown()
    for title in (
        "Intended use",
        "Training data",
        "Evaluation",
        "Fairness",
        "Worst slices",
        "Gates",
        "Limitations and caveats",
        "Lineage",
    ):
        assert f"## {title}" in text
    assert "Who will cancel?" in text and "retained revenue" in text and "7,043 rows" in text
    assert "abc123 (uncommitted changes)" in text and "run-9" in text
    assert "95% CI" in text
    limits = card.limitations()
    assert limits[0].startswith("Gate failed") and "below the minimum" in limits[0]
    assert any("four-fifths" in note and "senior_citizen" in note for note in limits)
    assert any("tenure" in note and "drifted" in note for note in limits)
    assert any("2020-01-01" in note for note in limits)
    md, html = card.write(tmp_path)
    assert md.name == "model_card.md" and md.read_text() == text
    page = html.read_text()
    assert "<li>" in page and "Model card: churn:3" in page and "Plotly.newPlot" not in page
