"""The model card: what a model version is for, what it was trained on, how well and how fairly
it does, what to be careful about, and where it came from — as Markdown and as HTML.

The facts come from the caller (charter, registry, store: see ``loopml.project``); limitations
are derived from the evaluation report (small groups, the four-fifths rule, failed gates,
significantly worse slices) and from the drift-prone columns the caller names.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loopml.evaluate._report import EvaluationReport
from loopml.reports import format_number, render_html, write_report

CARD_MD = "model_card.md"
CARD_HTML = "model_card.html"
_TOP_SLICES = 5


@dataclass
class ModelCard:
    """Facts about a model version plus its evaluation; render with :meth:`to_markdown` /
    :meth:`to_html`. ``period`` is the (first, last) value of the time column, if any."""

    report: EvaluationReport
    family: str = ""
    problem: str = ""
    kpi: str = ""
    metric: str | None = None
    target: str | None = None
    dataset_id: str | None = None
    dataset_rows: int | None = None
    period: tuple[str, str] | None = None
    train_rows: int | None = None
    run_id: str | None = None
    git_commit: str | None = None
    git_dirty: bool | None = None
    drift_prone: list[str] = field(default_factory=list)

    def limitations(self) -> list[str]:
        """Caveats derived from the evaluation and the facts, most serious first."""
        r, notes = self.report, []
        notes += [f"Gate failed — {g.message}" for g in r.gates if not g.passed]
        for a in r.fairness.get("attributes", []):
            if a.get("four_fifths_rule") is False:
                notes.append(
                    f"Disparate impact for '{a['name']}': the lowest selection rate "
                    f"({a.get('lowest_selection_group')}) is "
                    f"{format_number(a['disparate_impact_ratio'])} of the highest "
                    f"({a.get('highest_selection_group')}), below the four-fifths rule."
                )
            if a["n_small_groups"]:
                notes.append(
                    f"'{a['name']}' has {a['n_small_groups']} group(s) under "
                    f"{r.fairness['min_group_rows']} rows: their rates are not reliable."
                )
        for s in [s for s in r.slices.get("slices", []) if s["significant"]][:_TOP_SLICES]:
            notes.append(
                f"Worse on {s['label']} ({s['count']:,} rows): {r.slices['metric']} "
                f"{format_number(s['metric'])} vs {format_number(r.slices['overall'])} overall."
            )
        if self.drift_prone:
            notes.append(
                "Columns that drifted in monitoring (check before trusting predictions): "
                + ", ".join(self.drift_prone)
                + "."
            )
        if self.period:
            notes.append(
                f"Trained on data from {self.period[0]} to {self.period[1]}; behaviour outside "
                "that period is not evaluated."
            )
        if r.n_unlabelled:
            notes.append(f"{r.n_unlabelled:,} evaluation row(s) had no label and were left out.")
        if r.unsupervised:
            notes += _unsupervised_caveats(r)
        elif not r.shap:
            notes.append("No SHAP explanation for this model family (permutation importance only).")
        return notes

    def sections(self) -> list[tuple[str, list[str]]]:
        """``(title, lines)`` pairs shared by both renderings; lines are plain text."""
        r = self.report
        metric_lines = []
        for name, value in r.metrics.items():
            interval = r.intervals.get(name)
            ci = (
                f" (95% CI {format_number(interval[0])} to {format_number(interval[1])})"
                if interval
                else ""
            )
            metric_lines.append(f"{name}: {format_number(value)}{ci}")
        fairness_lines = [
            f"{a['name']}: demographic parity difference "
            f"{format_number(a.get('demographic_parity_difference'))}, equalized odds difference "
            f"{format_number(a.get('equalized_odds_difference'))}, disparate impact ratio "
            f"{format_number(a.get('disparate_impact_ratio'))}"
            for a in r.fairness.get("attributes", [])
        ]
        slice_lines = [
            f"{s['label']}: {format_number(s['metric'])} on {s['count']:,} rows "
            f"(q = {format_number(s['q_value'])})"
            for s in [s for s in r.slices.get("slices", []) if s["significant"]][:_TOP_SLICES]
        ]
        return [
            (
                "Intended use",
                [
                    f"Problem: {self.problem or 'not stated in the charter'}",
                    f"Business KPI: {self.kpi or 'not stated in the charter'}",
                    self._task_line(),
                ],
            ),
            (
                "Training data",
                [
                    f"Dataset version: {self.dataset_id or 'unknown'}"
                    + (f" ({self.dataset_rows:,} rows)" if self.dataset_rows else ""),
                    f"Training rows: {format_number(self.train_rows)}",
                    f"Period: {self.period[0]} to {self.period[1]}"
                    if self.period
                    else "Period: no time column",
                ],
            ),
            (
                "Evaluation",
                [f"On {r.n_rows:,} holdout rows", *metric_lines, *_unsupervised_lines(r)],
            ),
            (
                "Fairness",
                fairness_lines
                or [self._not_computed("No sensitive column is marked in the contract.")],
            ),
            (
                "Worst slices",
                slice_lines
                or [self._not_computed("No slice is significantly worse than the rest.")],
            ),
            (
                "Gates",
                [f"{'PASS' if g.passed else 'FAIL'} {g.name}: {g.message}" for g in r.gates]
                or ["No gate configured."],
            ),
            ("Limitations and caveats", self.limitations() or ["None derived."]),
            (
                "Lineage",
                [
                    f"Model: {r.model_ref} ({self.family or 'unknown family'})",
                    f"Run: {self.run_id or 'unknown'}",
                    f"Data version: {self.dataset_id or 'unknown'}",
                    f"Code commit: {self.git_commit or 'unknown'}"
                    + (" (uncommitted changes)" if self.git_dirty else ""),
                ],
            ),
        ]

    def _not_computed(self, otherwise: str) -> str:
        """Fairness and slices are supervised analyses: say so for clustering and anomaly."""
        if self.report.unsupervised:
            return f"Not computed for {self.report.task} models."
        return otherwise

    def _task_line(self) -> str:
        task = self.report.task
        if task == "clustering":
            return f"Task: clustering (no target); primary metric {self.metric or 'silhouette'}"
        if task == "anomaly":
            known = (
                f"known anomalies in '{self.target}' are used only to evaluate"
                if self.target
                else "no known anomalies"
            )
            return f"Task: anomaly detection ({known}); primary metric {self.metric or 'none'}"
        return f"Task: {task}, predicting '{self.target}'; primary metric {self.metric}"

    def to_markdown(self) -> str:
        lines = [f"# Model card: {self.report.model_ref}", ""]
        for title, items in self.sections():
            lines += [f"## {title}", "", *(f"- {item}" for item in items), ""]
        return "\n".join(lines)

    def to_html(self) -> str:
        context: dict[str, Any] = {
            "title": f"Model card: {self.report.model_ref}",
            "subtitle": f"{self.report.task} model · {self.family or 'unknown family'}",
            "card_sections": self.sections(),
        }
        return render_html("model_card.html", context, include_plotlyjs=False)

    def write(self, directory: str | os.PathLike[str]) -> tuple[Path, Path]:
        """Write ``model_card.md`` and ``model_card.html`` into ``directory`` (atomically)."""
        folder = Path(directory)
        return (
            write_report(folder / CARD_MD, self.to_markdown()),
            write_report(folder / CARD_HTML, self.to_html()),
        )


def _unsupervised_lines(r: EvaluationReport) -> list[str]:
    """Cluster sizes, or what was flagged, for the Evaluation section."""
    details = r.unsupervised
    if not details:
        return []
    if r.task == "clustering":
        sizes = ", ".join(
            f"{'noise' if s['cluster'] == -1 else s['cluster']}: {s['count']:,}"
            for s in details["sizes"]
        )
        return [f"Method: {details['method']}", f"Cluster sizes: {sizes}"]
    lines = [
        f"Method: {details['method']}",
        f"Flagged: {details['flagged']:,} rows above the score threshold "
        f"{format_number(details.get('threshold'))}",
    ]
    if details.get("labelled"):
        lines.append(
            f"Known anomalies: {details['known_anomalies']:,} (prevalence "
            f"{format_number(details['prevalence'])}); precision and recall at k = {details['k']:,}"
        )
    return lines


def _unsupervised_caveats(r: EvaluationReport) -> list[str]:
    details = r.unsupervised
    if r.task == "clustering":
        notes = [
            "Cluster ids are arbitrary labels: a retrained model may number its clusters "
            "differently, so do not store them as stable categories.",
            f"Silhouette was measured on a sample of {details['silhouette_sample']:,} rows.",
        ]
        if r.metrics.get("noise_share"):
            notes.append(
                f"{format_number(r.metrics['noise_share'])} of the rows fall in no cluster (noise)."
            )
        return notes
    if not details.get("labelled"):
        return [
            "The evaluation data marks no known anomalies: detection quality is not measured, "
            "only the share of rows flagged."
        ]
    return []
