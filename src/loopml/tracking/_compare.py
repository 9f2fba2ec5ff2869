"""Runs side by side: params and latest metrics in one table, metric histories as line charts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go

from loopml.errors import InvalidInputError
from loopml.reports import Report, Section, Table, figure_html, render_report
from loopml.store import MetadataStore, MetricPoint, Run


@dataclass
class RunComparison(Report):
    """Two or more runs compared; ``histories[metric][run_id]`` is that metric's full history."""

    runs: list[Run]
    histories: dict[str, dict[str, list[MetricPoint]]]

    @property
    def param_keys(self) -> list[str]:
        return sorted({key for run in self.runs for key in run.params})

    @property
    def metric_keys(self) -> list[str]:
        return sorted({key for run in self.runs for key in run.metrics})

    def differing_params(self) -> list[str]:
        """Params whose value is not the same in every run (a missing param counts as a value)."""
        return [
            key for key in self.param_keys if len({run.params.get(key) for run in self.runs}) > 1
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "runs": [
                {
                    "id": run.id,
                    "name": run.name,
                    "kind": run.kind,
                    "status": run.status,
                    "dataset": run.dataset_id,
                    "start_time": run.start_time.isoformat(),
                }
                for run in self.runs
            ],
            "params": {k: {r.id: r.params.get(k) for r in self.runs} for k in self.param_keys},
            "metrics": {k: {r.id: r.metrics.get(k) for r in self.runs} for k in self.metric_keys},
            "differing_params": self.differing_params(),
            "histories": {
                key: {
                    run_id: [{"step": p.step, "value": p.value} for p in points]
                    for run_id, points in by_run.items()
                }
                for key, by_run in self.histories.items()
            },
        }

    def to_html(self) -> str:
        headers = ["", *[_label(run) for run in self.runs]]
        differing = set(self.differing_params())
        params = Table(
            headers,
            [[key, *[run.params.get(key) for run in self.runs]] for key in self.param_keys],
            row_status=["warn" if key in differing else None for key in self.param_keys],
            caption="Params that differ between runs are highlighted.",
        )
        metrics = Table(
            headers,
            [[key, *[run.metrics.get(key) for run in self.runs]] for key in self.metric_keys],
            caption="Latest value of each metric.",
        )
        figures = [
            figure_html(self._history_figure(key), div_id=f"history-{index}")
            for index, key in enumerate(sorted(self.histories))
        ]
        sections = [
            Section("Params", tables=[params]),
            Section("Metrics", tables=[metrics]),
            Section(
                "Metric histories",
                text="Every logged value by step (metrics logged at more than one step).",
                figures=figures,
            ),
        ]
        return render_report(
            "Run comparison",
            sections,
            subtitle=", ".join(_label(run) for run in self.runs),
            summary=[("runs", len(self.runs)), ("differing params", len(differing))],
        )

    def _history_figure(self, key: str) -> go.Figure:
        figure = go.Figure()
        names = {run.id: _label(run) for run in self.runs}
        for run_id, points in self.histories[key].items():
            figure.add_trace(
                go.Scatter(
                    x=[p.step for p in points],
                    y=[p.value for p in points],
                    mode="lines+markers",
                    name=names[run_id],
                )
            )
        figure.update_layout(
            title=key, xaxis_title="step", yaxis_title=key, height=360, template="plotly_white"
        )
        return figure


def _label(run: Run) -> str:
    return f"{run.name} ({run.id[:8]})"


def compare_runs(store: MetadataStore, run_ids: Sequence[str]) -> RunComparison:
    """Load ``run_ids`` (full ids or unique prefixes) and their metric histories.

    Histories are kept for metrics that some run logged at more than one step (single values
    are already in the metrics table).

    Raises:
        InvalidInputError: fewer than two runs, or the same run twice.
        NotFoundError: a run id matches no run.
    """
    if len(run_ids) < 2:
        raise InvalidInputError(
            f"Comparing needs at least two runs; got {len(run_ids)}.",
            hint="Pass two or more run ids, e.g. `loopml runs compare 3f2a9c 81bd07`.",
        )
    runs = [store.runs.get(run_id) for run_id in run_ids]
    seen = [run.id for run in runs]
    if len(set(seen)) != len(seen):
        duplicate = next(run_id for run_id in seen if seen.count(run_id) > 1)
        raise InvalidInputError(
            f"Run {duplicate!r} is given more than once.", hint="Pass each run once."
        )
    histories: dict[str, dict[str, list[MetricPoint]]] = {}
    for key in sorted({key for run in runs for key in run.metrics}):
        by_run = {run.id: store.runs.metric_history(run.id, key) for run in runs}
        if any(len(points) > 1 for points in by_run.values()):
            histories[key] = {run_id: points for run_id, points in by_run.items() if points}
    return RunComparison(runs=runs, histories=histories)
