"""Alert rules on a report: log, webhook (real HTTP server), email (real SMTP dialogue),
de-duplication with a cooldown, and the history in the store."""

from __future__ import annotations

import json
import logging
import socketserver
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from loopml.charter._model import AlertsSpec
from loopml.monitor import DriftReport, raise_alerts, report_metrics
from loopml.store import MetadataStore, open_store

T0 = datetime(2024, 5, 1, 12, tzinfo=UTC)


def report(share: float = 0.6, **extra: object) -> DriftReport:
    drifted = {"test": "psi", "statistic": 0.3, "threshold": 0.1, "drifted": True}
    quiet = {"test": "psi", "statistic": 0.01, "threshold": 0.1, "drifted": False}
    features = {f"f{i}": dict(drifted if i < share * 10 else quiet) for i in range(10)}
    out = DriftReport(model="churn:2", features=features, n_current=500, **extra)  # type: ignore[arg-type]
    out.summarise()
    return out


@pytest.fixture
def store(tmp_path: Path) -> Iterator[MetadataStore]:
    with open_store(f"sqlite:///{tmp_path / 'loopml.db'}") as opened:
        yield opened


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict]]]:
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()
    server.server_close()


@pytest.fixture
def smtp() -> Iterator[tuple[int, list[dict]]]:
    """A minimal SMTP server speaking enough of RFC 5321 for smtplib."""
    mails: list[dict] = []

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            self.wfile.write(b"220 test ESMTP\r\n")
            mail: dict = {"to": []}
            while line := self.rfile.readline():
                command = line.decode().strip()
                verb = command.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    self.wfile.write(b"250 test\r\n")
                elif verb == "MAIL":
                    mail["from"] = command.split(":", 1)[1].strip(" <>")
                    self.wfile.write(b"250 OK\r\n")
                elif verb == "RCPT":
                    mail["to"].append(command.split(":", 1)[1].strip(" <>"))
                    self.wfile.write(b"250 OK\r\n")
                elif verb == "DATA":
                    self.wfile.write(b"354 go on\r\n")
                    body = b""
                    while (chunk := self.rfile.readline()) != b".\r\n":
                        body += chunk
                    mail["message"] = message_from_bytes(body)
                    mails.append(mail)
                    self.wfile.write(b"250 queued\r\n")
                elif verb == "QUIT":
                    self.wfile.write(b"221 bye\r\n")
                    return
                else:
                    self.wfile.write(b"250 OK\r\n")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], mails
    server.shutdown()
    server.server_close()


def spec(**fields: object) -> AlertsSpec:
    return AlertsSpec.model_validate(fields)


def test_report_metrics_names_every_number_a_rule_can_use() -> None:
    r = report(
        multivariate={"statistic": 0.7, "drifted": True},
        performance={"estimated": {"roc_auc": 0.71}, "realized": {"accuracy": 0.8}},
        operations={"requests": 500, "latency_p99_ms": 12.5},
    )
    metrics = report_metrics(r)
    assert metrics["share_drifted"] == 0.6 and metrics["dataset_drift"] == 1.0
    assert metrics["drift.f0"] == 0.3 and metrics["multivariate_auc"] == 0.7
    assert metrics["estimated_roc_auc"] == 0.71 and metrics["realized_accuracy"] == 0.8
    assert metrics["latency_p99_ms"] == 12.5 and metrics["rows"] == 500


def test_rules_fire_on_the_log_and_are_recorded(
    store: MetadataStore, caplog: pytest.LogCaptureFixture
) -> None:
    rules = spec(
        rules=[
            {"name": "drift", "metric": "share_drifted", "threshold": 0.5, "severity": "critical"},
            {"name": "quiet", "metric": "share_drifted", "threshold": 0.9},
            {"name": "auc", "metric": "estimated_roc_auc", "threshold": 0.75, "comparison": "<"},
            {"name": "daily", "metric": "share_drifted", "threshold": 0.1, "window": "1d"},
        ]
    )
    r = report(performance={"estimated": {"roc_auc": 0.7}})
    with caplog.at_level(logging.WARNING, logger="loopml.alerts"):
        outcomes = raise_alerts(r, rules, store.alerts, project="p", model_name="churn", now=T0)
    assert [o.rule for o in outcomes] == ["drift", "auc"]  # "daily" needs a 1d window
    assert all(o.delivered == ["log"] and not o.suppressed for o in outcomes)
    assert "drift: share_drifted = 0.6 >= 0.5 for churn:2" in caplog.text
    history = store.alerts.list("p")
    assert [a.rule for a in history] == ["auc", "drift"]
    assert history[1].severity == "critical" and history[1].value == 0.6
    assert [a["rule"] for a in r.alerts] == ["drift", "auc"]
    r.window["duration"] = "1d"
    later = T0 + timedelta(hours=2)
    fired = raise_alerts(r, rules, store.alerts, project="p", model_name="churn", now=later)
    assert "daily" in [o.rule for o in fired]


def test_cooldown_suppresses_repeats_of_the_same_alert(store: MetadataStore) -> None:
    rules = spec(
        cooldown_minutes=30,
        rules=[{"name": "drift", "metric": "dataset_drift", "threshold": 1}],
    )
    times = [T0, T0 + timedelta(minutes=10), T0 + timedelta(minutes=31)]
    states = []
    for moment in times:
        outcome = raise_alerts(report(), rules, store.alerts, project="p", now=moment)[0]
        states.append(outcome.suppressed)
    assert states == [False, True, False]
    assert [a.time for a in store.alerts.list("p")] == [times[2], times[0]]
    # Another model is another alert: not suppressed by churn's.
    other = report()
    other.model = "fraud:1"
    outcome = raise_alerts(other, rules, store.alerts, project="p", now=times[1])[0]
    assert not outcome.suppressed


def test_webhook_receives_the_alert_as_json(
    store: MetadataStore, webhook: tuple[str, list[dict]]
) -> None:
    url, received = webhook
    rules = spec(
        webhook_url=url,
        rules=[
            {
                "name": "drift",
                "metric": "share_drifted",
                "threshold": 0.5,
                "channels": ["log", "webhook"],
            }
        ],
    )
    outcome = raise_alerts(report(), rules, store.alerts, project="p", now=T0)[0]
    assert outcome.delivered == ["log", "webhook"] and outcome.failed == {}
    assert len(received) == 1
    assert received[0] | {"time": None} == {
        "project": "p",
        "model": "churn:2",
        "rule": "drift",
        "severity": "warning",
        "metric": "share_drifted",
        "value": 0.6,
        "threshold": 0.5,
        "message": "drift: share_drifted = 0.6 >= 0.5 for churn:2",
        "time": None,
    }
    assert store.alerts.list("p")[0].channels == ["log", "webhook"]


def test_a_failing_channel_is_reported_and_the_others_still_deliver(
    store: MetadataStore,
) -> None:
    rules = spec(
        webhook_url="http://127.0.0.1:9/nothing-listens-here",
        rules=[
            {
                "name": "drift",
                "metric": "share_drifted",
                "threshold": 0.5,
                "channels": ["webhook", "log"],
            }
        ],
    )
    outcome = raise_alerts(report(), rules, store.alerts, project="p", now=T0)[0]
    assert outcome.delivered == ["log"]
    assert "did not accept the alert" in outcome.failed["webhook"]
    assert store.alerts.list("p")[0].channels == ["log"]


def test_email_goes_out_over_smtp(store: MetadataStore, smtp: tuple[int, list[dict]]) -> None:
    port, mails = smtp
    rules = spec(
        email={
            "host": "127.0.0.1",
            "port": port,
            "sender": "loopml@example.org",
            "to": ["ops@example.org", "ml@example.org"],
        },
        rules=[
            {
                "name": "auc",
                "metric": "estimated_roc_auc",
                "threshold": 0.75,
                "comparison": "<",
                "severity": "critical",
                "channels": ["email"],
            }
        ],
    )
    r = report(performance={"estimated": {"roc_auc": 0.7}})
    outcome = raise_alerts(r, rules, store.alerts, project="p", now=T0)[0]
    assert outcome.delivered == ["email"]
    assert len(mails) == 1
    mail = mails[0]
    assert mail["from"] == "loopml@example.org"
    assert mail["to"] == ["ops@example.org", "ml@example.org"]
    assert (
        mail["message"]["Subject"]
        == "[loopml critical] auc: estimated_roc_auc = 0.7 < 0.75 for churn:2"
    )
    assert "threshold: 0.75" in mail["message"].get_payload()


def test_channels_must_be_configured_in_the_charter() -> None:
    with pytest.raises(ValueError, match="no webhook_url"):
        spec(rules=[{"name": "x", "metric": "rows", "threshold": 1, "channels": ["webhook"]}])
    with pytest.raises(ValueError, match="no email section"):
        spec(rules=[{"name": "x", "metric": "rows", "threshold": 1, "channels": ["email"]}])
    with pytest.raises(ValueError, match="unique"):
        spec(rules=[{"name": "x", "metric": "rows", "threshold": 1}] * 2)
