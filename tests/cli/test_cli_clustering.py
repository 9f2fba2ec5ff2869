"""A clustering project through the real CLI: iris without its label, from init to serving."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score
from typer.testing import CliRunner

from loopml.charter import load_charter, write_charter
from loopml.cli import app
from loopml.project import Project, build_app
from loopml.project._evaluate import holdout_of
from loopml.serve import running_server

runner = CliRunner()


def run(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    return result.stdout


def run_json(*args: str) -> dict[str, object]:
    data = json.loads(run(*args, "--json"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def iris_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("iris") / "flowers.csv"
    load_iris(as_frame=True).frame.drop(columns="target").to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory: pytest.TempPathFactory, iris_csv: Path) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("iris-project")
    created = run_json(
        "init", "--data", str(iris_csv), "--task", "clustering", "--project", str(folder)
    )
    assert created["task"] == "clustering" and created["target"] is None
    charter = load_charter(folder / "loopml.yaml")
    charter.unsupervised.max_clusters = 4
    charter.acceptance.min_score = 0.3
    write_charter(charter, folder / "loopml.yaml")
    yield folder


@pytest.fixture(scope="module")
def trained(project_dir: Path) -> dict[str, object]:
    return run_json("train", "--project", str(project_dir))


@pytest.mark.slow
def test_train_tracks_candidates_gates_and_registers(
    project_dir: Path, trained: dict[str, object]
) -> None:
    assert trained["model"] == "flowers:1"
    assert trained["metric"] == "silhouette"
    assert trained["alias"] == "champion"
    gates = trained["gates"]
    assert isinstance(gates, list)
    assert [g["name"] for g in gates] == ["min_score", "margin_over_baseline"]
    assert all(g["passed"] for g in gates) and gates[0]["limit"] == 0.3
    assert "improves on the baseline" in gates[1]["message"]  # random labels, same sizes
    families = {row["family"] for row in trained["leaderboard"]}  # type: ignore[attr-defined]
    assert {"kmeans(k=2)", "gaussian_mixture(k=4)", "dbscan"} <= families
    with Project.open(project_dir) as project:
        run_record = project.store.runs.get(str(trained["run_id"]))
        children = project.store.runs.list(project.name, parent_id=run_record.id)
        assert {c.name for c in children} == families
        assert all("silhouette" in c.metrics for c in children)
        assert {"reference_profile", "cluster_profiles.json"} <= set(run_record.artifacts)


@pytest.mark.slow
def test_evaluate_matches_scikit_learn_and_reports_sections(
    project_dir: Path, trained: dict[str, object]
) -> None:
    out = run_json("evaluate", "--project", str(project_dir))
    metrics = out["metrics"]
    assert isinstance(metrics, dict)
    with Project.open(project_dir) as project:
        model, bundle = project.registry.load("flowers:1")
        holdout = holdout_of(project, model, bundle)
    Z = bundle.pipeline.transform(bundle.features(holdout))
    labels = bundle.predict_frame(holdout)["prediction"].to_numpy()
    assert metrics["silhouette"] == pytest.approx(silhouette_score(Z, labels))
    assert metrics["davies_bouldin"] == pytest.approx(davies_bouldin_score(Z, labels))
    assert metrics["calinski_harabasz"] == pytest.approx(calinski_harabasz_score(Z, labels))
    report = json.loads(Path(str(out["report"])).with_suffix(".json").read_text())
    for name in ("silhouette", "davies_bouldin", "calinski_harabasz"):
        low, high = report["intervals"][name]
        assert low <= metrics[name] <= high
    details = report["unsupervised"]
    assert sum(s["count"] for s in details["sizes"]) == len(holdout) == details["silhouette_sample"]
    html = Path(str(out["report"])).read_text()
    for anchor in ("fig-cluster-sizes", "fig-cluster-pca", "fig-cluster-profiles"):
        assert f'id="{anchor}"' in html
    assert "Cluster profiles" in html
    card = Path(str(out["model_card"])).read_text()
    assert "Task: clustering" in card and "Cluster sizes:" in card


@pytest.mark.slow
def test_predict_writes_cluster_and_score(
    project_dir: Path, iris_csv: Path, trained: dict[str, object], tmp_path: Path
) -> None:
    output = tmp_path / "clusters.csv"
    run("predict", "-m", "flowers@champion", "-i", str(iris_csv), "-o", str(output),
        "--project", str(project_dir))  # fmt: skip
    scored = pd.read_csv(output)
    assert list(scored.columns[-2:]) == ["prediction", "score"]
    assert len(scored) == 150 and scored["prediction"].nunique() >= 2
    assert np.isfinite(scored["score"]).all()


@pytest.mark.slow
def test_served_prediction_and_monitor(project_dir: Path, trained: dict[str, object]) -> None:
    record = {"sepal length (cm)": 5.1, "sepal width (cm)": 3.5,
              "petal length (cm)": 1.4, "petal width (cm)": 0.2}  # fmt: skip
    with Project.open(project_dir) as project:
        expected = project.registry.load("flowers:1")[1].predict_frame(pd.DataFrame([record]))
        with running_server(build_app(project, refresh_interval=0)) as url:
            reply = httpx.post(f"{url}/v1/models/flowers/predict", json=record)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["prediction"] == int(expected["prediction"].iloc[0])
    assert body["score"] == pytest.approx(float(expected["score"].iloc[0]))
    monitored = run_json("monitor", "--project", str(project_dir))
    assert "performance" not in monitored or monitored["performance"] is None
    assert "petal length (cm)" in json.dumps(monitored)


def test_too_few_rows_is_a_clear_error(tmp_path: Path) -> None:
    data = tmp_path / "tiny.csv"
    load_iris(as_frame=True).frame.drop(columns="target").head(5).to_csv(data, index=False)
    run("init", "--data", str(data), "--task", "clustering", "--project", str(tmp_path))
    result = runner.invoke(app, ["train", "--project", str(tmp_path)])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "5 usable row(s); clustering needs at least 20" in result.output


def test_init_without_target_needs_an_unsupervised_task(iris_csv: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", "--data", str(iris_csv), "--project", str(tmp_path)])
    assert result.exit_code != 0 and "--task clustering" in result.output
