"""`loopml models promote|approve|rollback|archive|export`, `loopml audit` and `loopml gc`
end to end through the CLI, on a project whose charter requires approvals."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from loopml.charter import load_charter, write_charter
from loopml.cli import app
from loopml.registry import load_joblib_export, load_skops_export

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))
from train_support import signal_frame

pytestmark = pytest.mark.slow
runner = CliRunner()


def run(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    return result.output


def run_json(*args: str) -> Any:
    return json.loads(run(*args, "--json"))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("governed")
    data = folder / "customers.csv"
    signal_frame(300).to_csv(data, index=False)
    run("init", "--data", str(data), "--target", "label", "--name", "churn", "-p", str(folder))
    charter = load_charter(folder / "loopml.yaml")
    charter.training.families = ["linear"]
    charter.training.tune = False
    charter.training.cv_folds = 2
    charter.registry.require_approval = True
    write_charter(charter, folder / "loopml.yaml")
    return folder


def test_governed_promotion_approval_rollback_archive_and_audit(project: Path) -> None:
    p = ("-p", str(project))
    first = run_json("train", "--time-budget", "20", *p)
    assert isinstance(first, dict) and first["alias"] == "challenger"
    assert "needs an approval" in first["decision"]

    refused = run("models", "promote", "churn:1", *p, code=5)
    assert "run `loopml models approve churn:1 --by NAME --reason TEXT`" in refused
    run("models", "promote", "churn:1", "--force", *p, code=2)  # forcing needs a reason

    approval = run_json("models", "approve", "churn:1", "--by", "ann", "--reason", "ok", *p)
    assert approval == {**approval, "model": "churn:1", "by": "ann"}
    promoted = run_json("models", "promote", "churn:1", "--by", "ann", *p)
    assert promoted == {**promoted, "model": "churn:1", "alias": "champion", "previous": None}

    run_json("train", "--time-budget", "20", *p)
    forced = run_json(
        "models", "promote", "churn:2", "--force", "--reason", "hotfix", "--by", "bob", *p
    )
    assert forced["forced"] is True and forced["previous"] == 1

    back = run_json("models", "rollback", "churn", "--by", "ann", "--reason", "bad", *p)
    assert (back["model"], back["previous"]) == ("churn:1", 2)
    versions = {v["model"]: v for v in run_json("models", "list", *p)}
    assert versions["churn:1"]["aliases"] == ["champion"]
    assert (versions["churn:1"]["stage"], versions["churn:2"]["stage"]) == (
        "production",
        "archived",
    )
    run("models", "archive", "churn:1", *p, code=2)
    shown = run_json("models", "show", "churn@champion", *p)
    assert shown["approvals"][0]["by"] == "ann"

    events = run_json("audit", "churn@champion", *p)
    assert isinstance(events, list)
    moves = [(e["actor"], e["details"].get("operation")) for e in events]
    assert moves == [("ann", "promote"), ("bob", "promote"), ("ann", "rollback")]
    history = run_json("audit", "churn:1", *p)
    assert isinstance(history, list)
    actions = [e["action"] for e in history]
    assert actions[0] == "model.register"
    assert actions.index("approval.request") < actions.index("model.approve")
    assert "churn:1" in run("audit", "churn:1", *p)


def test_export_and_gc(project: Path, tmp_path: Path) -> None:
    p = ("-p", str(project))
    if not (project / ".loopml" / "artifacts").is_dir():
        run("train", "--time-budget", "20", *p)
    shown = run_json("models", "show", "churn:1", *p)
    assert isinstance(shown, dict)
    out = run_json("models", "export", "churn:1", str(tmp_path / "j"), "-f", "joblib", *p)
    assert out["files"]["model.joblib"]
    assert load_joblib_export(tmp_path / "j").task == "binary"
    run("models", "export", "churn:1", str(tmp_path / "s"), "-f", "skops", *p)
    assert load_skops_export(tmp_path / "s").classes
    onnx = run_json("models", "export", "churn:1", str(tmp_path / "o"), "-f", "onnx", *p)
    assert onnx["checks"]["max_abs_difference"] <= 1e-4
    assert onnx["checks"]["rows_verified"] > 0
    mlflow = run_json("models", "export", "churn:1", str(tmp_path / "m"), "-f", "mlflow", *p)
    assert {"MLmodel", "model.joblib", "requirements.txt"} <= set(mlflow["files"])
    run("models", "export", "churn:1", str(tmp_path / "x"), "-f", "pmml", *p, code=2)

    (project / ".loopml" / "artifacts" / "ab").mkdir(parents=True, exist_ok=True)
    orphan = "ab" + "c" * 62
    (project / ".loopml" / "artifacts" / "ab" / ("c" * 62)).write_bytes(b"stray")
    dry = run_json("gc", "--min-age", "0", *p)
    assert dry["unreferenced"] == [{"digest": orphan, "bytes": 5}]
    assert dry["deleted"] is False
    assert "Would delete 1" in run("gc", "--min-age", "0", *p)
    run("gc", "--min-age", "0", "--yes", *p)
    assert run_json("gc", "--min-age", "0", *p)["unreferenced"] == []
    run_json("models", "show", "churn:1", *p)
