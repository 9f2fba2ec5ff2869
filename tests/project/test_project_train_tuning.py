"""`train` with tuning: every trial is a child run, the trial count is logged for replay, and
the CLI's --trials replays it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from loopml.cli import app
from loopml.project import Project, init_project, train

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tuning-project")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=300), "city": rng.choice(["Oslo", "Rome"], 300)})
    frame["y"] = np.where(frame["x"] + rng.normal(scale=0.5, size=300) > 0, "yes", "no")
    data = folder / "data.csv"
    frame.to_csv(data, index=False)
    with init_project(folder, data=data, target="y", name="demo", time_budget=60) as project:
        charter = project.paths.charter
        text = charter.read_text().replace("families: null", 'families: ["linear"]')
        charter.write_text(text.replace("cv_folds: 5", "cv_folds: 3"))
    return folder


def test_trials_are_child_runs_and_the_count_is_logged(project_dir: Path) -> None:
    with Project.open(project_dir) as project:
        outcome = train(project, trials=2)
        trials = project.store.runs.search("demo", "kind = 'trial'")
        run = project.store.runs.get(outcome.run_id)
    assert len(trials) == 2
    assert all(t.parent_id == outcome.run_id for t in trials)
    assert {t.name for t in trials} == {"linear-trial-1", "linear-trial-2"}
    assert json.loads(run.params["trials"]) == {"linear": 2}
    assert outcome.leaderboard[0]["trials"] == 2


def test_cli_trials_option_replays_and_rejects_nonsense(project_dir: Path) -> None:
    runner = CliRunner()
    args = ["train", "--trials", "linear=1", "--project", str(project_dir)]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["leaderboard"]
    assert next(r for r in rows if r["family"] == "linear")["trials"] == 1
    bad = runner.invoke(app, ["train", "--trials", "lots", "--project", str(project_dir)])
    assert bad.exit_code != 0 and "Cannot read the trial count 'lots'" in bad.output
    assert "Traceback" not in bad.output
