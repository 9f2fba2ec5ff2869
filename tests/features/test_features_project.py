"""The charter's `features:` section through `loopml train` and `loopml predict`: derived
features are computed inside the registered pipeline (batch scoring matches the Python API),
selection is recorded with the run, and a malicious expression is refused before any run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from loopml.cli import app
from loopml.project import Project, init_project, train
from loopml.registry import load_skops_export

pytestmark = pytest.mark.slow

FEATURES = """
features:
  derived:
    - {name: spend_per_visit, expr: "spend / visits"}
    - {name: log_spend, expr: "log1p(spend)"}
  selection: {method: filter, max_features: 4, variance_threshold: 0.01}
"""


def _frame(n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    spend = rng.gamma(2.0, 50.0, n)
    visits = rng.integers(0, 6, n).astype(float)  # zero visits: the ratio is NaN, imputed
    ratio = spend / np.maximum(visits, 1)
    frame = pd.DataFrame(
        {
            "spend": spend,
            "visits": visits,
            "noise": rng.normal(size=n),
            "flat": 5 + rng.normal(scale=0.01, size=n),
            "city": rng.choice(["Oslo", "Rome", "Lima"], n),
        }
    )
    frame["churn"] = np.where(ratio + rng.normal(scale=15, size=n) > 40, "yes", "no")
    return frame


def _project(folder: Path, features: str, training: str = "") -> Path:
    data = folder / "data.csv"
    _frame().to_csv(data, index=False)
    with init_project(folder, data=data, target="churn", name="shop", time_budget=40) as project:
        path = project.paths.charter
        text = path.read_text().replace("families: null", 'families: ["linear"]')
        text = text.replace("cv_folds: 5", "cv_folds: 3").replace("tune: true", "tune: false")
        if training:
            text = text.replace("training:\n", f"training:\n{training}")
        path.write_text(text + features)
    return folder


def test_train_records_selection_and_predict_computes_derived_features(tmp_path: Path) -> None:
    folder = _project(tmp_path, FEATURES)
    runner = CliRunner()
    trained = runner.invoke(app, ["train", "--project", str(folder), "--json"])
    assert trained.exit_code == 0, trained.output
    outcome = json.loads(trained.stdout)
    with Project.open(folder) as project:
        run = project.store.runs.get(outcome["run_id"])
        assert json.loads(run.params["features"])["derived"] == {
            "spend_per_visit": "spend / visits",
            "log_spend": "log1p(spend)",
        }
        record = json.loads(project.artifacts.get_bytes(run.artifacts["features.json"]))
        _, bundle = project.registry.load("shop:1")
    dropped = {d["column"]: d["reason"] for d in record["dropped"]}
    assert dropped["flat"] == "variance at most the threshold", record
    assert run.metrics["features_dropped"] == len(record["dropped"]) >= 1
    assert [name for name, _ in bundle.pipeline.steps][:2] in (
        ["derive", "preprocess"],
        ["clean", "derive"],
    )
    rows = _frame(40).drop(columns="churn")
    rows.to_csv(tmp_path / "score.csv", index=False)
    scored = runner.invoke(
        app,
        [
            "predict",
            "-m",
            "shop:1",
            "-i",
            str(tmp_path / "score.csv"),
            "-o",
            str(tmp_path / "out.csv"),
            "--project",
            str(folder),
        ],
    )
    assert scored.exit_code == 0, scored.output
    batch = pd.read_csv(tmp_path / "out.csv")
    direct = bundle.predict_frame(rows)
    np.testing.assert_allclose(batch["probability_yes"], direct["probability_yes"], rtol=1e-9)
    assert (batch["prediction"] == direct["prediction"]).all()
    exported = runner.invoke(
        app,
        [
            "models",
            "export",
            "shop:1",
            str(tmp_path / "skops"),
            "--format",
            "skops",
            "--project",
            str(folder),
        ],
    )
    assert exported.exit_code == 0, exported.output
    safe = load_skops_export(tmp_path / "skops").predict_frame(rows)
    np.testing.assert_allclose(safe["probability_yes"], direct["probability_yes"], rtol=1e-12)


def test_cli_refuses_a_malicious_expression_before_any_run(tmp_path: Path) -> None:
    expr = "__import__('os').system('touch pwned')"
    features = f'\nfeatures:\n  derived:\n    - {{name: bad, expr: "{expr}"}}\n'
    folder = _project(tmp_path, features)
    result = CliRunner().invoke(app, ["train", "--project", str(folder)])
    assert result.exit_code == 2
    assert "The derived feature 'bad' calls attribute access" in result.output
    assert "Traceback" not in result.output
    assert not (folder / "pwned").exists() and not Path("pwned").exists()
    with Project.open(folder) as project:
        assert project.store.runs.search("shop", "kind = 'train'") == []


def test_self_training_project_logs_pseudo_labels_and_scores_labelled_holdout(
    tmp_path: Path,
) -> None:
    frame = _frame()
    frame.loc[frame.index[::3], "churn"] = None
    data = tmp_path / "data.csv"
    frame.to_csv(data, index=False)
    with init_project(tmp_path, data=data, target="churn", name="shop", time_budget=40) as project:
        path = project.paths.charter
        text = path.read_text().replace("families: null", 'families: ["linear"]')
        text = text.replace("tune: true", "tune: false\n  self_training: true")
        path.write_text(text.replace("cv_folds: 5", "cv_folds: 3"))
    with Project.open(tmp_path) as project:
        outcome = train(project)
        run = project.store.runs.get(outcome.run_id)
        record = json.loads(project.artifacts.get_bytes(run.artifacts["features.json"]))
    assert record["unlabelled_rows"] > 50
    assert run.metrics["pseudo_labels"] == record["pseudo_labels"] > 0
    rows = {row["family"]: row for row in outcome.leaderboard}
    assert rows["self_training"]["params"]["base"] == "linear"
    assert record["chosen"] in ("self_training", "linear")
    assert outcome.metrics["roc_auc"] > 0.6  # scored on the labelled holdout rows only
