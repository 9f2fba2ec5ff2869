"""An anomaly project through the real CLI: diabetes measurements with injected outliers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes
from sklearn.metrics import average_precision_score, roc_auc_score
from typer.testing import CliRunner

from loopml.charter import load_charter, write_charter
from loopml.cli import app
from loopml.project import Project, build_app
from loopml.project._evaluate import holdout_of
from loopml.serve import running_server

pytestmark = pytest.mark.slow

runner = CliRunner()
N_OUTLIERS = 50


def run_json(*args: str) -> dict[str, object]:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, (result.output, result.exception)
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def with_outliers() -> pd.DataFrame:
    """The diabetes features plus rows pushed 6-9 standard deviations out on three columns."""
    frame = load_diabetes(as_frame=True).data
    rng = np.random.default_rng(0)
    outliers = frame.sample(N_OUTLIERS, random_state=0).reset_index(drop=True)
    for i in range(N_OUTLIERS):
        columns = rng.choice(frame.columns, size=3, replace=False)
        shift = rng.uniform(6, 9, size=3) * rng.choice([-1, 1], size=3)
        outliers.loc[i, columns] += shift * frame[columns].std().to_numpy()
    data = pd.concat([frame.assign(outlier="no"), outliers.assign(outlier="yes")])
    return data.sample(frac=1.0, random_state=1).reset_index(drop=True)


@pytest.fixture(scope="module")
def data_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("patients") / "patients.csv"
    with_outliers().to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory: pytest.TempPathFactory, data_csv: Path) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("anomaly-project")
    created = run_json(
        "init", "--data", str(data_csv), "--task", "anomaly", "--target", "outlier",
        "--project", str(folder),
    )  # fmt: skip
    assert created["task"] == "anomaly" and created["target"] == "outlier"
    charter = load_charter(folder / "loopml.yaml")
    charter.unsupervised.contamination = 0.1
    charter.acceptance.min_score = 0.5
    write_charter(charter, folder / "loopml.yaml")
    yield folder


@pytest.fixture(scope="module")
def trained(project_dir: Path) -> dict[str, object]:
    return run_json("train", "--project", str(project_dir))


def test_train_gates_on_precision_at_k(trained: dict[str, object]) -> None:
    assert trained["metric"] == "precision_at_k"
    assert trained["alias"] == "champion", trained["decision"]
    gates = trained["gates"]
    assert isinstance(gates, list) and all(g["passed"] for g in gates)
    assert [g["name"] for g in gates] == ["min_score", "margin_over_baseline"]
    families = {row["family"] for row in trained["leaderboard"]}  # type: ignore[attr-defined]
    assert families == {"isolation_forest", "lof"}


def test_evaluate_beats_chance_and_matches_scikit_learn(
    project_dir: Path, trained: dict[str, object]
) -> None:
    out = run_json("evaluate", "--project", str(project_dir))
    metrics = out["metrics"]
    assert isinstance(metrics, dict)
    with Project.open(project_dir) as project:
        model, bundle = project.registry.load("patients:1")
        holdout = holdout_of(project, model, bundle)
    known = (holdout["outlier"] == "yes").to_numpy()
    scored = bundle.predict_frame(holdout)
    score = scored["score"].to_numpy()
    k = int(scored["prediction"].sum())
    top = np.argsort(-score, kind="stable")[:k]
    assert metrics["precision_at_k"] == pytest.approx(known[top].mean())
    assert metrics["recall_at_k"] == pytest.approx(known[top].sum() / known.sum())
    assert metrics["roc_auc"] == pytest.approx(roc_auc_score(known, score))
    assert metrics["pr_auc"] == pytest.approx(average_precision_score(known, score))
    assert metrics["precision_at_k"] > 2 * known.mean()  # far better than flagging at random
    report = json.loads(Path(str(out["report"])).with_suffix(".json").read_text())
    assert set(report["intervals"]) >= {"precision_at_k", "recall_at_k", "roc_auc", "pr_auc"}
    assert report["unsupervised"]["known_anomalies"] == int(known.sum())
    html = Path(str(out["report"])).read_text()
    assert 'id="fig-anomaly-scores"' in html and "known anomalies" in html
    card = Path(str(out["model_card"])).read_text()
    assert "Task: anomaly detection" in card and "Known anomalies:" in card


def test_predict_and_serve_flag_an_outlier(
    project_dir: Path, data_csv: Path, trained: dict[str, object], tmp_path: Path
) -> None:
    output = tmp_path / "flags.parquet"
    result = runner.invoke(
        app, ["predict", "-m", "patients@champion", "-i", str(data_csv), "-o", str(output),
              "--project", str(project_dir)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    flags = pd.read_parquet(output)
    assert list(flags.columns[-2:]) == ["prediction", "score"]
    assert set(flags["prediction"]) == {0, 1}
    outlier = flags[flags["outlier"] == "yes"]["score"].mean()
    assert outlier > flags[flags["outlier"] == "no"]["score"].mean()
    frame = load_diabetes(as_frame=True).data
    typical = frame.median().to_dict()
    extreme = {c: v + 10 * frame[c].std() for c, v in typical.items()}
    with (
        Project.open(project_dir) as project,
        running_server(build_app(project, refresh_interval=0)) as url,
    ):
        normal = httpx.post(f"{url}/v1/models/patients/predict", json=typical).json()
        odd = httpx.post(f"{url}/v1/models/patients/predict", json=extreme).json()
    assert odd["prediction"] == 1 and normal["prediction"] == 0
    assert odd["score"] > normal["score"]
    monitored = run_json("monitor", "--project", str(project_dir))
    assert monitored.get("performance") is None
