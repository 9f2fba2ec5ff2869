"""Real drift on a time-ordered real dataset (issue: correctness): NYC flights 2013, trained on
winter months and monitored on summer ones. The features that moved with the season are
flagged, the ones that did not are not, and the retraining loop's challenger beats the champion
on the later labelled period, recovering the metric."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from loopml.charter import load_charter, write_charter
from loopml.demo import write_demo_files
from loopml.demo._flights import TARGET, TIME
from loopml.project import Project, init_project, monitor, retrain

pytestmark = pytest.mark.slow


def test_winter_model_on_summer_flights_drifts_and_retraining_recovers(tmp_path: Path) -> None:
    files = write_demo_files(
        tmp_path / "data", train_rows=6_000, later_rows=6_000, traffic_rows=2_000, seed=1
    )
    with init_project(
        tmp_path / "p",
        data=files.train,
        target=TARGET,
        name="flights-late",
        time_column=TIME,
        time_budget=120,  # an upper bound: one untuned LightGBM, 3 folds, fits in seconds
    ) as project:
        charter = load_charter(project.paths.charter)
        training = charter.training.model_copy(
            update={"families": ["lightgbm"], "tune": False, "cv_folds": 3, "ensemble": False}
        )
        write_charter(charter.model_copy(update={"training": training}), project.paths.charter)
    with Project.open(tmp_path / "p") as project:
        trained = project.train()
        assert trained.champion
        report = monitor(project, current=files.traffic, alerts=False).report

        # Summer weather moved; the airports, the carriers and the flight distances did not.
        drifted = set(report.drifted_features)
        assert {"temp", "humid"} <= drifted, report.features
        assert not drifted & {"origin", "carrier", "distance"}, report.features
        winter = pd.read_csv(files.train)["temp"]
        summer = pd.read_csv(files.traffic)["temp"]
        assert summer.mean() > winter.mean() + 20  # the data really moved (°F)

        outcome = retrain(project, files.later_labelled)
        decision = outcome.decision
        assert decision is not None and outcome.challenger is not None
        # Both scored on the most recent labelled summer rows (the shared holdout).
        assert decision.champion_score is not None and decision.challenger_score is not None
        assert decision.challenger_score > decision.champion_score, decision.reason
        assert decision.promote and outcome.champion_after == "flights-late:2"
