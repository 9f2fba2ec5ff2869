"""The evaluation report as a self-contained HTML page."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go
from markupsafe import Markup

from loopml.evaluate import _figures as figs
from loopml.evaluate import _sections_html as sections
from loopml.evaluate._metrics import GREATER_IS_BETTER
from loopml.evaluate._unsupervised import UNSUPERVISED_GREATER_IS_BETTER
from loopml.evaluate._unsupervised_html import unsupervised_sections
from loopml.reports import figure_html, render_html

if TYPE_CHECKING:
    from loopml.evaluate._report import EvaluationReport

# (key in curves, figure id, builder), in page order.
_CURVE_FIGURES: list[tuple[str, str, Callable[[Any], go.Figure]]] = [
    ("roc", "fig-roc", figs.roc_figure),
    ("pr", "fig-pr", figs.pr_figure),
    ("calibration", "fig-calibration", figs.calibration_figure),
    ("threshold_metrics", "fig-threshold", figs.threshold_figure),
    ("gain", "fig-gain", figs.gain_figure),
    ("gain", "fig-lift", figs.lift_figure),
    ("roc_per_class", "fig-roc-per-class", figs.roc_per_class_figure),
    ("confusion", "fig-confusion", figs.confusion_figure),
    ("actual_vs_predicted", "fig-actual-vs-predicted", figs.actual_vs_predicted_figure),
    ("actual_vs_predicted", "fig-residuals", figs.residuals_figure),
    ("residual_histogram", "fig-residual-histogram", figs.residual_histogram_figure),
]

TOP_IMPORTANCE_ROWS = 20
_HEADLINE = {
    "binary": ("roc_auc", "pr_auc", "f1", "accuracy"),
    "multiclass": ("accuracy", "f1_macro", "roc_auc", "log_loss"),
    "regression": ("rmse", "mae", "r2"),
    "clustering": ("silhouette", "davies_bouldin", "calinski_harabasz"),
    "anomaly": ("flagged_share", "precision_at_k", "roc_auc"),
}


def curve_figures(curves: dict[str, Any], threshold: float | None = None) -> list[Markup]:
    """HTML of every figure the curve summaries allow, in page order; ``threshold`` (the
    model's decision threshold) is marked on the metric-vs-threshold figure."""
    out = []
    for key, div_id, build in _CURVE_FIGURES:
        if not curves.get(key):
            continue
        if build is figs.threshold_figure:
            build = partial(figs.threshold_figure, chosen=threshold)
        out.append(figure_html(build(curves[key]), div_id=div_id))
    return out


def _metric_rows(report: EvaluationReport) -> list[list[Any]]:
    rows = []
    for name, value in report.metrics.items():
        low, high = report.intervals.get(name, (None, None))
        if report.unsupervised:
            direction = UNSUPERVISED_GREATER_IS_BETTER.get(name)
        else:
            direction = GREATER_IS_BETTER.get(name, True)
        better = "" if direction is None else ("higher" if direction else "lower")
        rows.append([name, value, low, high, better])
    return rows


def mitigation_rows(mitigation: dict[str, Any]) -> list[list[Any]]:
    """One row per measure of the fairness-mitigation comparison: original, mitigated, change."""
    original, mitigated = mitigation.get("original", {}), mitigation.get("mitigated", {})
    cost = mitigation.get("cost", {})
    return [[name, value, mitigated.get(name), cost.get(name)] for name, value in original.items()]


def evaluation_html(report: EvaluationReport) -> str:
    """Render ``report`` with the packaged ``evaluation.html`` template."""
    importance = report.importance
    subtitle = f"{report.task} model evaluated on {report.n_rows:,} rows"
    if report.dataset_id:
        subtitle += f" of dataset {report.dataset_id}"
    summary: list[tuple[str, Any]] = [("rows", report.n_rows)]
    summary += [
        (m, report.metrics[m]) for m in _HEADLINE.get(report.task, ()) if m in report.metrics
    ]
    if report.gates:
        passed = sum(g.passed for g in report.gates)
        summary.append(("gates passed", f"{passed} / {len(report.gates)}"))
    context = {
        "title": f"Evaluation of {report.model_ref}",
        "subtitle": subtitle,
        "generated_at": report.created_at.replace("T", " "),
        "report": report,
        "summary": summary,
        "metric_rows": _metric_rows(report),
        "gates": report.gates,
        "curve_figures": curve_figures(report.curves, report.threshold),
        "importance_figure": (
            figure_html(figs.importance_figure(importance), div_id="fig-importance")
            if importance.get("features")
            else None
        ),
        "importance_rows": [
            [f["name"], f["mean"], f["std"]]
            for f in importance.get("features", [])[:TOP_IMPORTANCE_ROWS]
        ],
        "fairness_rows": sections.fairness_rows(report.fairness),
        "mitigation": report.fairness.get("mitigation"),
        "mitigation_rows": mitigation_rows(report.fairness.get("mitigation") or {}),
        "fairness_figures": sections.fairness_figures(report.fairness, report.task),
        "slice_rows": sections.slice_rows(report.slices),
        "shap_figure": (
            figure_html(sections.shap_figure(report.shap), div_id="fig-shap")
            if report.shap.get("features")
            else None
        ),
        "shap_rows": [
            [f["name"], f["mean_abs"]]
            for f in report.shap.get("features", [])[:TOP_IMPORTANCE_ROWS]
        ],
        "unsupervised_sections": unsupervised_sections(report),
    }
    return render_html("evaluation.html", context)
