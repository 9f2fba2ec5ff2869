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
        if not r.shap:
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
                    f"Task: {r.task}, predicting '{self.target}'; primary metric {self.metric}",
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
            ("Evaluation", [f"On {r.n_rows:,} holdout rows", *metric_lines]),
            ("Fairness", fairness_lines or ["No sensitive column is marked in the contract."]),
            ("Worst slices", slice_lines or ["No slice is significantly worse than the rest."]),
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
