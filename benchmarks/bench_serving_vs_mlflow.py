"""Serving speed: loopml (prediction logging on) vs ``mlflow models serve`` vs a bare FastAPI app.

The same fitted LightGBM pipeline (20 numeric features) is served by each, one after the other,
on loopback; ``wrk`` (Debian package; else a small asyncio client of keep-alive connections)
sends single-record POSTs: sequentially on one connection for latency p50/p99, then on 8
connections for throughput. Goals (issue #7): loopml ≥ 30x MLflow's throughput, p99 ≤ 5 ms at
8 connections, ≥ 0.7x the bare app's throughput. loopml serves with prediction logging on and
its compiled scoring path (see ``loopml.serve._compiled``); the bare app calls the pipeline on a
one-row DataFrame, as a hand-written FastAPI service would.

Usage: python benchmarks/bench_serving_vs_mlflow.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import joblib
import numpy as np
import pandas as pd
from fastapi import FastAPI, Request
from fastapi.responses import Response

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _peer import PEERS, peer_python, run_peer

N_FEATURES = 20
FEATURES = [f"x{i}" for i in range(N_FEATURES)]
WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[{body}]]
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{{"requests": %d, "seconds": %f, "p50_ms": %f, "p99_ms": %f, '
    .. '"errors": %d, "non2xx": %d}}\\n', summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def fit_pipeline(folder: Path) -> Path:
    """A LightGBM pipeline on synthetic data, saved with joblib (shared by all three servers)."""
    from lightgbm import LGBMClassifier
    from sklearn.pipeline import Pipeline

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(20_000, N_FEATURES)), columns=FEATURES)
    y = (X["x0"] + X["x1"] * X["x2"] + rng.normal(scale=0.5, size=len(X)) > 0).astype(int)
    pipeline = Pipeline([("model", LGBMClassifier(n_estimators=100, num_leaves=31, verbose=-1))])
    pipeline.fit(X, y)
    path = folder / "pipeline.joblib"
    joblib.dump(pipeline, path)
    return path


def loopml_app(pipeline_path: str, db: str) -> Any:
    from loopml.data import ColumnSpec, DataContract
    from loopml.serve import BackgroundPredictionLogger, LoadedModel, StaticResolver, create_app
    from loopml.store import open_store
    from loopml.train import ModelBundle

    columns = [ColumnSpec(name=f, dtype="float", min=-5.0, max=5.0) for f in FEATURES]
    columns.append(ColumnSpec(name="y", dtype="integer", role="target"))
    bundle = ModelBundle(
        pipeline=joblib.load(pipeline_path),
        contract=DataContract(columns=columns, target="y"),
        task="binary",
        classes=[0, 1],
        positive_class=1,
        family="lightgbm",
    )
    store = open_store(f"sqlite:///{db}")
    resolver = StaticResolver({"model": LoadedModel("model", 1, bundle)})
    return create_app(resolver, BackgroundPredictionLogger(store))


def bare_app(pipeline_path: str) -> Any:
    import orjson

    pipeline = joblib.load(pipeline_path)
    app = FastAPI()

    @app.post("/predict")
    async def predict(request: Request) -> Response:
        record = orjson.loads(await request.body())
        frame = pd.DataFrame([record], columns=FEATURES)
        proba = float(pipeline.predict_proba(frame)[0, 1])
        return Response(orjson.dumps({"probability": proba}), media_type="application/json")

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def serve_child(kind: str, pipeline_path: str, port: int, db: str) -> None:
    from loopml.serve import serve

    app = loopml_app(pipeline_path, db) if kind == "loopml" else bare_app(pipeline_path)
    serve(app, port=port, log_level="warning")


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"The server behind {url} exited with {process.returncode}.")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def load(url: str, body: bytes, connections: int, seconds: int, folder: Path) -> dict[str, Any]:
    """wrk when installed, else the asyncio client (same result keys)."""
    if shutil.which("wrk") is not None:
        return wrk(url, body, connections, seconds, folder)
    return asyncio.run(async_load(url, body, connections, seconds))


async def async_load(url: str, body: bytes, connections: int, seconds: int) -> dict[str, Any]:
    """POST ``body`` on ``connections`` keep-alive connections for ``seconds``; raw HTTP/1.1 over
    asyncio streams, so the client costs little CPU beside the server on a small machine."""
    parsed = urlsplit(url)
    request = (
        f"POST {parsed.path} HTTP/1.1\r\nHost: {parsed.hostname}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def connection() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(parsed.hostname, parsed.port)
        try:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - started)
                errors += not head.startswith(b"HTTP/1.1 200")
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "seconds": elapsed,
        "rps": len(ordered) / elapsed,
        "p50_ms": ordered[len(ordered) // 2] * 1000,
        "p99_ms": ordered[int(len(ordered) * 0.99)] * 1000,
        "errors": 0,
        "non2xx": errors,
    }


def wrk(url: str, body: bytes, connections: int, seconds: int, folder: Path) -> dict[str, Any]:
    script = folder / "post.lua"
    script.write_text(WRK_SCRIPT.format(body=body.decode()))
    threads = min(2, connections)
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "-s", str(script), url],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["rps"] = result["requests"] / result["seconds"]
    return result


def measure(
    name: str, cmd: list[str], url: str, probe: str, body: bytes, args: Any, folder: Path
) -> dict[str, Any]:
    # MLflow starts `uvicorn` from PATH: put the server's own environment first.
    path = f"{Path(cmd[0]).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "PATH": path}
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        wait_until_up(probe, process)
        check = httpx.post(url, content=body, headers={"content-type": "application/json"})
        if check.status_code != 200:
            raise RuntimeError(f"{name} answered {check.status_code}: {check.text[:300]}")
        load(url, body, 8, 2, folder)  # warm-up
        sequential = load(url, body, 1, args.seconds, folder)
        loaded = load(url, body, 8, args.seconds, folder)
    finally:
        process.terminate()
        process.wait(30)
    print(
        f"{name:>7}: sequential p50 {sequential['p50_ms']:.2f} ms p99 {sequential['p99_ms']:.2f} "
        f"ms | 8 conns {loaded['rps']:,.0f} req/s p50 {loaded['p50_ms']:.2f} ms p99 "
        f"{loaded['p99_ms']:.2f} ms (errors {loaded['errors'] + loaded['non2xx']})",
        flush=True,
    )
    return {"sequential": sequential, "loaded": loaded}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    print(f"load generator: {'wrk' if shutil.which('wrk') else 'asyncio client'}", flush=True)
    folder = Path(tempfile.mkdtemp(prefix="bench-serving-"))
    pipeline = fit_pipeline(folder)
    rng = np.random.default_rng(1)
    record = {
        f: round(float(v), 4) for f, v in zip(FEATURES, rng.normal(size=N_FEATURES), strict=True)
    }
    body = json.dumps(record).encode()
    me = [sys.executable, __file__, "--child"]
    results = {
        "loopml": measure(
            "loopml", [*me, "loopml", str(pipeline), "8101", str(folder / "log.db")],
            "http://127.0.0.1:8101/v1/models/model/predict", "http://127.0.0.1:8101/health",
            body, args, folder,
        ),
        "bare": measure(
            "bare", [*me, "bare", str(pipeline), "8102", ""],
            "http://127.0.0.1:8102/predict", "http://127.0.0.1:8102/health", body, args, folder,
        ),
    }  # fmt: skip
    model_dir = folder / "mlflow-model"
    peer = run_peer("mlflow_serve", PEERS / "mlflow_serve_peer.py", str(pipeline), str(model_dir))
    mlflow_bin = str(Path(peer_python("mlflow_serve")).parent / "mlflow")
    mlflow_body = json.dumps({"dataframe_records": [record]}).encode()
    results["mlflow"] = measure(
        f"mlflow {peer['mlflow']}",
        [mlflow_bin, "models", "serve", "-m", str(model_dir), "--env-manager", "local",
         "-h", "127.0.0.1", "-p", "8103"],
        "http://127.0.0.1:8103/invocations", "http://127.0.0.1:8103/ping",
        mlflow_body, args, folder,
    )  # fmt: skip
    ours, bare, theirs = (results[k]["loaded"] for k in ("loopml", "bare", "mlflow"))
    print(
        f"\nloopml / mlflow throughput: {ours['rps'] / theirs['rps']:.1f}x (goal >= 30x)\n"
        f"loopml / bare throughput: {ours['rps'] / bare['rps']:.2f}x (goal >= 0.7x)\n"
        f"loopml p99 at 8 connections: {ours['p99_ms']:.2f} ms (goal <= 5 ms)"
    )
    print(json.dumps(results))
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        serve_child(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
    else:
        main()
