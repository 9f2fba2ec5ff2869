"""``loopml runs search|compare`` and ``loopml lineage``, end to end through the CLI, on a project
whose store holds runs, a registered model version and a logged prediction."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
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


def run(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    return result.stdout if code == 0 else result.output


def run_json(*args: str) -> Any:
    return json.loads(run(*args, "--json"))


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("runs-project")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"x": rng.normal(size=200), "city": rng.choice(["Oslo", "Rome"], 200)}
    ).assign(y=lambda f: np.where(f["x"] > 0, "yes", "no"))
    data = folder / "data.csv"
    frame.to_csv(data, index=False)
    run("init", "--data", str(data), "--target", "y", "--name", "demo", "--project", str(folder))
    dataset = run_json("ingest", "--project", str(folder))["dataset"]
    with Project.open(folder) as project:
        store = project.store
        for family, auc, seed in [
            ("lightgbm", 0.91, 1),
            ("lightgbm", 0.72, 2),
            ("linear", 0.85, 3),
        ]:
            with start_run(
                store,
                "demo",
                f"train-{family}",
                dataset_id=dataset,
                code_dir=folder,
                tags={"charter_sha256": "c" * 64} if seed == 1 else None,
            ) as tracked:
                tracked.log_params({"family": family, "seed": seed})
                for step in range(3):
                    tracked.log_metric("loss", 1.0 / (step + seed), step=step)
                tracked.log_metric("roc_auc", auc)
                with tracked.child(family, "candidate") as child:
                    child.log_metric("cv_roc_auc", auc)
        best = store.runs.search("demo", "params.seed = '1'")[0]
        store.models.create_version(
            "demo", artifact="a" * 64, task="binary", run_id=best.id, dataset_id=dataset
        )
        store.models.set_alias("demo", "champion", 1)
        store.predictions.add(
            [
                PredictionRecord(
                    request_id="req-0001",
                    time=datetime(2024, 5, 1, tzinfo=UTC),
                    model_name="demo",
                    model_version=1,
                    inputs={"x": 1.0, "city": "Oslo"},
                    outputs={"prediction": "yes"},
                    latency_ms=1.2,
                    deployment="prod",
                )
            ]
        )
    return folder


def test_search_filters_orders_and_limits(project_dir: Path) -> None:
    found = run_json(
        "runs",
        "search",
        "metrics.roc_auc > 0.8 and params.family = 'lightgbm' or params.family = 'linear'",
        "--order-by",
        "metrics.roc_auc",
        "--limit",
        "5",
        "--project",
        str(project_dir),
    )
    assert [(r["name"], r["metrics"]["roc_auc"]) for r in found] == [
        ("train-lightgbm", 0.91),
        ("train-linear", 0.85),
    ]
    assert found[0]["params"]["family"] == "lightgbm"
    worst = run_json(
        "runs",
        "search",
        "kind = 'train'",
        "--order-by",
        "metrics.roc_auc asc",
        "--limit",
        "1",
        "--project",
        str(project_dir),
    )
    assert [r["metrics"]["roc_auc"] for r in worst] == [0.72]
    table = run("runs", "search", "--order-by", "metrics.cv_roc_auc", "--project", str(project_dir))
    assert "0.9100" in table
    children = run_json(
        "runs", "search", "--order-by", "metrics.cv_roc_auc", "--project", str(project_dir)
    )
    assert [r["metrics"].get("cv_roc_auc") for r in children][:4] == [0.91, 0.85, 0.72, None]


def test_a_bad_filter_is_one_clear_error(project_dir: Path) -> None:
    output = run("runs", "search", "metrics.roc_auc > high", "--project", str(project_dir), code=2)
    assert "position 19" in output and "expected a number" in output


def test_compare_prints_a_table_and_writes_an_html_report(
    project_dir: Path, tmp_path: Path
) -> None:
    ids = [
        r["id"] for r in run_json("runs", "list", "--kind", "train", "--project", str(project_dir))
    ]
    report = tmp_path / "compare.html"
    data = run_json("runs", "compare", *ids, "--html", str(report), "--project", str(project_dir))
    assert data["differing_params"] == ["family", "seed"]
    assert set(data["histories"]) == {"loss"}
    assert data["html"] == str(report) and "Plotly.newPlot" in report.read_text()
    shown = run("runs", "compare", ids[0][:8], ids[1][:8], "--project", str(project_dir))
    assert "params.family" in shown and "metrics.roc_auc" in shown
    assert "at least two" in run("runs", "compare", ids[0], "--project", str(project_dir), code=2)


def test_lineage_of_a_prediction_reaches_the_source_file(project_dir: Path) -> None:
    tree = run_json("lineage", "req-0001", "--project", str(project_dir))
    assert tree["kind"] == "prediction"
    model = tree["prediction"]["model_version"]
    assert model["model"] == "demo:1" and model["aliases"] == ["champion"]
    train = model["run"]
    assert train["seed"] == "1" and train["charter"] == {"sha256": "c" * 64, "recorded": True}
    assert train["packages"]["numpy"] == np.__version__
    source = train["dataset"]["source"]
    data = project_dir / "data.csv"
    assert source["kind"] == "file"
    assert source["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    human = run("lineage", "req-0001", "--project", str(project_dir))
    for fragment in ("prediction", "model version demo:1", "run", "dataset version", "source file"):
        assert fragment in human


def test_lineage_of_model_refs_and_runs(project_dir: Path) -> None:
    by_alias = run_json("lineage", "demo@champion", "--project", str(project_dir))
    by_version = run_json("lineage", "demo:1", "--project", str(project_dir))
    assert by_alias["model_version"] == by_version["model_version"]
    run_id = by_version["model_version"]["run"]["id"]
    from_run = run_json("lineage", run_id[:10], "--project", str(project_dir))
    assert from_run["kind"] == "run" and from_run["run"]["model_versions"] == ["demo:1"]
    unrecorded = run_json(
        "lineage",
        run_json("runs", "search", "params.seed = '2'", "--project", str(project_dir))[0]["id"],
        "--project",
        str(project_dir),
    )
    charter = (project_dir / "loopml.yaml").read_bytes()
    assert unrecorded["run"]["charter"] == {
        "sha256": hashlib.sha256(charter).hexdigest(),
        "recorded": False,
    }


def test_lineage_of_a_dataset_lists_everything_trained_on_it(project_dir: Path) -> None:
    dataset = run_json("data", "list", "--project", str(project_dir))[0]["id"]
    tree = run_json("lineage", dataset, "--project", str(project_dir))
    assert tree["kind"] == "dataset"
    node = tree["dataset"]
    assert sorted(r["name"] for r in node["runs"]) == [
        "train-lightgbm",
        "train-lightgbm",
        "train-linear",
    ]
    assert node["child_runs"] == 3 and node["model_versions"] == ["demo:1"]
    assert "trained on it" in run("lineage", dataset, "--project", str(project_dir))


def test_lineage_of_an_unknown_reference_says_what_it_tried(project_dir: Path) -> None:
    output = run("lineage", "nothing-like-this", "--project", str(project_dir), code=3)
    assert "is not a prediction request id, model reference, run id or dataset version" in output
    assert "No model named" in run("lineage", "ghost:1", "--project", str(project_dir), code=3)
