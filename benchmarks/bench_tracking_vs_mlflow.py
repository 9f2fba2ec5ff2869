"""Tracking speed: loopml vs MLflow, both on SQLite files in one temporary folder, same machine.

(a) 1,000 ``log_metric`` calls one by one in one run (loopml: timed until the run has ended, so
    every point is committed; the time the calls alone take is shown too);
(b) 500 runs, each with 10 params and 5 metrics (start, log, end);
(c) a search with a metric filter, a param filter and an order by a metric (top 100): loopml over
    10,000 runs, MLflow over fewer (``--mlflow-search-runs``, default 1,000) because filling
    MLflow's store with 10,000 runs takes minutes; the MLflow count is printed beside its time.

Goals: >= 20x faster than MLflow on (a) and (b); (c) <= 50 ms over 10,000 runs.

Both stores run SQLite in WAL mode; loopml uses ``synchronous=NORMAL`` (no fsync per commit: a
power loss may roll back the last commits, a crash of the process loses nothing committed and
never corrupts the file). A loopml run's row is written with its first batch, so (b) is one
transaction per run (start, params, metrics and end), committed when the ``with`` block ends.
Run: ``.venv/bin/python benchmarks/bench_tracking_vs_mlflow.py`` (the first run builds the MLflow
environment from ``benchmarks/peers/mlflow.txt``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _peer import PEERS, run_peer

from loopml.store import MetricPoint, open_store
from loopml.tracking import start_run

SEARCH_FILTER = "metrics.roc_auc > 0.5 and params.family = 'lightgbm'"


def bench_loopml(folder: Path, n_calls: int, n_runs: int, n_search: int, repeats: int) -> dict:
    store = open_store(f"sqlite:///{folder / 'loopml.db'}")
    code_dir = Path(__file__).resolve().parent
    with start_run(store, "bench", "metrics", code_dir=code_dir) as run:
        start = time.perf_counter()
        for step in range(n_calls):
            run.log_metric("loss", 1.0 / (step + 1), step=step)
        calls_only = time.perf_counter() - start
    a_seconds = time.perf_counter() - start
    assert len(store.runs.metric_history(run.id, "loss")) == n_calls

    start = time.perf_counter()
    for i in range(n_runs):
        with start_run(store, "bench", f"run-{i}", code_dir=code_dir) as run:
            run.log_params({f"p{j}": f"value-{i}-{j}" for j in range(10)})
            run.log_metrics({f"m{j}": (i * 7 + j) % 100 / 100 for j in range(5)})
    b_seconds = time.perf_counter() - start

    fill = time.perf_counter()
    for i in range(n_search):
        store.runs.create(
            "search",
            f"s-{i}",
            "train",
            params={"family": "lightgbm" if i % 2 else "logreg"},
            metrics=[MetricPoint("roc_auc", (i * 37 % 1000) / 1000)],
            end_status="finished",
        )
    fill_seconds = time.perf_counter() - fill
    timings, found = [], 0
    for _ in range(repeats):
        start = time.perf_counter()
        runs = store.runs.search(
            "search", SEARCH_FILTER, order_by=["metrics.roc_auc desc"], limit=100
        )
        timings.append(time.perf_counter() - start)
        found = len(runs)
    store.close()
    return {
        "a_seconds": a_seconds,
        "a_calls_only_seconds": calls_only,
        "b_seconds": b_seconds,
        "c_seconds": statistics.median(timings),
        "c_runs": n_search,
        "c_found": found,
        "c_fill_seconds": fill_seconds,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--search-runs", type=int, default=10_000)
    parser.add_argument("--mlflow-search-runs", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-tracking-") as tmp:
        folder = Path(tmp)
        ours = bench_loopml(folder, args.calls, args.runs, args.search_runs, args.repeats)
        peer = run_peer(
            "mlflow",
            PEERS / "mlflow_tracking.py",
            str(folder),
            str(args.calls),
            str(args.runs),
            str(args.mlflow_search_runs),
            str(args.repeats),
        )
    rows = [
        (f"(a) {args.calls:,} log_metric calls", ours["a_seconds"], peer["a_seconds"], "", ""),
        (
            f"(b) {args.runs:,} runs x (10 params + 5 metrics)",
            ours["b_seconds"],
            peer["b_seconds"],
            "",
            "",
        ),
        (
            "(c) search + order, top 100",
            ours["c_seconds"],
            peer["c_seconds"],
            f"{ours['c_runs']:,} runs",
            f"{peer['c_runs']:,} runs",
        ),
    ]
    print(f"loopml vs MLflow {peer['version']} (SQLite files in {tempfile.gettempdir()})")
    print(f"{'benchmark':<44}{'loopml':>14}{'MLflow':>14}{'ratio':>9}")
    for name, mine, theirs, mine_note, their_note in rows:
        print(
            f"{name:<44}{mine * 1e3:>11.1f} ms{theirs * 1e3:>11.1f} ms{theirs / mine:>8.1f}x"
            + (f"   (loopml over {mine_note}, MLflow over {their_note})" if mine_note else "")
        )
    print(
        f"per call/run: (a) loopml {ours['a_seconds'] / args.calls * 1e6:.1f} us per call "
        f"({ours['a_calls_only_seconds'] / args.calls * 1e6:.1f} us before the final flush), "
        f"MLflow {peer['a_seconds'] / args.calls * 1e3:.2f} ms; (b) loopml "
        f"{ours['b_seconds'] / args.runs * 1e3:.2f} ms per run, MLflow "
        f"{peer['b_seconds'] / args.runs * 1e3:.2f} ms"
    )
    goals = {
        "(a) >= 20x": peer["a_seconds"] / ours["a_seconds"] >= 20,
        "(b) >= 20x": peer["b_seconds"] / ours["b_seconds"] >= 20,
        "(c) <= 50 ms": ours["c_seconds"] <= 0.050,
    }
    print("goals: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in goals.items()))
    if ours["c_found"] != min(100, peer["c_found"]) and args.search_runs == args.mlflow_search_runs:
        print(f"note: result counts differ (loopml {ours['c_found']}, MLflow {peer['c_found']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
