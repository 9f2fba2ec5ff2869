"""MLflow's half of ``bench_tracking_vs_mlflow.py`` (runs in ``.bench-venvs/mlflow``).

Usage: ``python mlflow_tracking.py FOLDER N_METRIC_CALLS N_RUNS N_SEARCH_RUNS REPEATS``.
Tracks into ``sqlite:///FOLDER/mlflow.db`` and prints one JSON object with the timings (seconds).
"""

from __future__ import annotations

import json
import logging
import statistics
import sys
import time
from pathlib import Path


def main() -> None:
    folder = Path(sys.argv[1])
    n_calls, n_runs, n_search, repeats = (int(x) for x in sys.argv[2:6])
    logging.disable(logging.WARNING)
    import mlflow
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    mlflow.set_tracking_uri(f"sqlite:///{folder / 'mlflow.db'}")
    experiment = mlflow.set_experiment("bench")
    client = MlflowClient()

    # (a) metric calls one by one, each as the user writes it.
    with mlflow.start_run(run_name="metrics"):
        start = time.perf_counter()
        for step in range(n_calls):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        a_seconds = time.perf_counter() - start

    # (b) runs with 10 params and 5 metrics each.
    start = time.perf_counter()
    for i in range(n_runs):
        with mlflow.start_run(run_name=f"run-{i}"):
            mlflow.log_params({f"p{j}": f"value-{i}-{j}" for j in range(10)})
            mlflow.log_metrics({f"m{j}": (i * 7 + j) % 100 / 100 for j in range(5)})
    b_seconds = time.perf_counter() - start

    # (c) search: a fresh experiment with n_search runs, filled through the batch API.
    search_exp = client.create_experiment("search")
    for i in range(n_search):
        run = client.create_run(search_exp, run_name=f"s-{i}")
        now = int(time.time() * 1000)
        client.log_batch(
            run.info.run_id,
            metrics=[Metric("roc_auc", (i * 37 % 1000) / 1000, now, 0)],
            params=[Param("family", "lightgbm" if i % 2 else "logreg")],
        )
        client.set_terminated(run.info.run_id)
    timings = []
    found = 0
    for _ in range(repeats):
        start = time.perf_counter()
        runs = client.search_runs(
            [search_exp],
            filter_string="metrics.roc_auc > 0.5 and params.family = 'lightgbm'",
            order_by=["metrics.roc_auc DESC"],
            max_results=100,
        )
        timings.append(time.perf_counter() - start)
        found = len(runs)
    print(
        json.dumps(
            {
                "version": mlflow.__version__,
                "experiment": experiment.experiment_id,
                "a_seconds": a_seconds,
                "b_seconds": b_seconds,
                "c_seconds": statistics.median(timings),
                "c_runs": n_search,
                "c_found": found,
            }
        )
    )


if __name__ == "__main__":
    main()
