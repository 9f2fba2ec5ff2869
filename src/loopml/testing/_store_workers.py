"""Functions the conformance suite runs in worker processes (importable by ``spawn``)."""

from __future__ import annotations

from loopml.store import MetricPoint, open_store


def log_runs(url: str, worker: str, n_runs: int, n_metrics: int) -> None:
    """Create ``n_runs`` runs in project ``concurrency``, each logging metric ``step`` one call
    per point, then finish them."""
    with open_store(url) as store:
        for i in range(n_runs):
            run = store.runs.create("concurrency", f"{worker}-{i}", "train")
            store.runs.log_batch(run.id, params={"worker": worker, "i": i})
            for step in range(n_metrics):
                store.runs.log_batch(run.id, metrics=[MetricPoint("step", float(step), step)])
            store.runs.end(run.id)


def register_versions(url: str, worker: str, n_runs: int, n_metrics: int) -> list[int]:
    """Register ``n_runs`` versions of model ``concurrent``; returns their numbers."""
    del n_metrics
    with open_store(url) as store:
        return [
            store.models.create_version(
                "concurrent", artifact="0" * 64, task="binary", actor=worker
            ).version
            for _ in range(n_runs)
        ]
