"""`loopml demo`: the whole loop on NYC flights, as `make demo` runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loopml.cli import app
from loopml.project import Project

pytestmark = pytest.mark.slow


def test_demo_runs_the_whole_loop(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    result = CliRunner().invoke(
        app, ["demo", "--dir", str(folder), "--time-budget", "15", "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    steps = {step["step"]: step for step in summary["steps"]}
    assert list(steps) == ["init", "validate", "train", "serve", "monitor", "retrain", "audit"]

    assert steps["train"]["model"] == "flights-late:1"
    assert steps["train"]["champion"] is True
    assert Path(steps["train"]["report"]).is_file()

    served = steps["serve"]
    assert served["accepted"] == served["requests_sent"] > 0
    assert served["rejected"] == 0

    # Winter training data vs summer traffic: the weather features must be flagged.
    assert "temp" in steps["monitor"]["drifted"]
    assert Path(steps["monitor"]["report"]).is_file()

    retrained = steps["retrain"]
    assert retrained["challenger"] == "flights-late:2"
    assert isinstance(retrained["decision"]["promote"], bool)

    with Project.open(folder) as project:
        logged = project.store.predictions.list(model_name="flights-late")
        assert len(logged) == served["accepted"]
        assert project.store.monitoring.list(project.name)
        actions = {e.action for e in project.store.audit.list(target="flights-late")}
        assert {"model.register", "alias.set", "retrain.decision"} <= actions


def test_demo_refuses_a_folder_that_holds_a_project(tmp_path: Path) -> None:
    (tmp_path / "loopml.yaml").write_text("name: x\n")
    result = CliRunner().invoke(app, ["demo", "--dir", str(tmp_path)])
    assert result.exit_code == 4
    assert "already holds" in result.output
