"""``loopml lineage`` shows what was predicted downstream of a model version, run or dataset
version (logged predictions per version and deployment, batch-prediction runs), and resolves a
prediction request id back to its source."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from loopml.cli import app
from loopml.project import Project
from loopml.store import PredictionRecord
from loopml.tracking import start_run

runner = CliRunner()
T0 = datetime(2024, 5, 1, tzinfo=UTC)


def run(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    return result.stdout


def run_json(*args: str) -> Any:
    return json.loads(run(*args, "--json"))


def _prediction(request_id: str, minutes: int, version: int, deployment: str) -> PredictionRecord:
    return PredictionRecord(
        request_id=request_id,
        time=T0 + timedelta(minutes=minutes),
        model_name="demo",
        model_version=version,
        inputs={"x": 1.0},
        outputs={"prediction": "yes"},
        latency_ms=1.0,
        deployment=deployment,
    )


@pytest.fixture(scope="module")
def lineage_project(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("lineage-project")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=60)}).assign(
        y=lambda f: np.where(f["x"] > 0, "yes", "no")
    )
    frame.to_csv(folder / "data.csv", index=False)
    run(
        "init",
        "--data",
        str(folder / "data.csv"),
        "--target",
        "y",
        "--name",
        "demo",
        "--project",
        str(folder),
    )
    dataset = run_json("ingest", "--project", str(folder))["dataset"]
    with Project.open(folder) as project:
        store = project.store
        with start_run(store, "demo", "train", dataset_id=dataset, code_dir=folder) as trained:
            trained.log_params({"seed": 1})
        for _ in range(2):
            store.models.create_version(
                "demo", artifact="a" * 64, task="binary", run_id=trained.id, dataset_id=dataset
            )
        store.predictions.add(
            [_prediction(f"req-{i}", i, 1, "prod") for i in range(3)]
            + [_prediction("req-canary", 10, 2, "canary")]
        )
        with start_run(
            store, "demo", "predict-demo-v1", kind="batch_predict", tags={"model": "demo:1"}
        ) as batch:
            batch.log_metrics({"rows": 250.0})
    return {"project": str(folder), "dataset": dataset, "run": trained.id, "batch": batch.id}


def test_a_model_version_shows_its_predictions_per_deployment_and_batch_runs(
    lineage_project: dict[str, str],
) -> None:
    node = run_json("lineage", "demo:1", "--project", lineage_project["project"])
    model = node["model_version"]
    assert [(p["model"], p["deployment"], p["count"]) for p in model["predictions"]] == [
        ("demo:1", "prod", 3)
    ]
    assert model["predictions"][0]["first"] == T0.isoformat()
    assert model["predictions_total"] == 3
    assert [(b["id"], b["rows"]) for b in model["batch_predictions"]] == [
        (lineage_project["batch"], 250)
    ]
    human = run("lineage", "demo:1", "--project", lineage_project["project"])
    assert "3 logged, 1 batch prediction run(s)" in human
    assert "demo:1 via prod: 3 predictions" in human


def test_a_run_and_a_dataset_show_the_predictions_of_what_they_produced(
    lineage_project: dict[str, str],
) -> None:
    from_run = run_json("lineage", lineage_project["run"], "--project", lineage_project["project"])
    assert from_run["run"]["model_versions"] == ["demo:1", "demo:2"]
    assert from_run["run"]["predictions_total"] == 4
    assert {(p["model"], p["deployment"]) for p in from_run["run"]["predictions"]} == {
        ("demo:1", "prod"),
        ("demo:2", "canary"),
    }
    dataset = run_json(
        "lineage", lineage_project["dataset"], "--project", lineage_project["project"]
    )["dataset"]
    assert dataset["predictions_total"] == 4 and len(dataset["batch_predictions"]) == 1
    assert "4 logged" in run(
        "lineage", lineage_project["dataset"], "--project", lineage_project["project"]
    )


def test_a_prediction_id_leads_back_to_the_model_run_and_data(
    lineage_project: dict[str, str],
) -> None:
    node = run_json("lineage", "req-canary", "--project", lineage_project["project"])
    assert node["kind"] == "prediction"
    prediction = node["prediction"]
    assert (prediction["deployment"], prediction["model"]) == ("canary", "demo:2")
    assert prediction["model_version"]["run"]["id"] == lineage_project["run"]
    assert prediction["model_version"]["run"]["dataset"]["id"] == lineage_project["dataset"]
    human = run("lineage", "req-canary", "--project", lineage_project["project"])
    assert "prediction req-canary" in human and "model version demo:2" in human
