"""Figures and tables of the fairness, worst-slice and SHAP sections of the evaluation report.

Built from the report's JSON summaries, so a stored report re-renders the same page.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from markupsafe import Markup

from loopml.reports import figure_html

TOP_SLICES = 15
MAX_SHAP_BARS = 20
_CLASSIFICATION_BARS = (
    ("selection_rate", "selection rate"),
    ("tpr", "true positive rate"),
    ("fpr", "false positive rate"),
    ("precision", "precision"),
)
_REGRESSION_BARS = (("mae", "MAE"), ("rmse", "RMSE"), ("mean_error", "mean error"))


def fairness_figure(attribute: dict[str, Any], task: str) -> go.Figure:
    """Grouped bars: one group of bars per group of the attribute, one bar per metric."""
    bars = _REGRESSION_BARS if task == "regression" else _CLASSIFICATION_BARS
    groups = attribute["groups"]
    labels = [f"{g['group']} (n={g['count']:,})" for g in groups]
    fig = go.Figure(
        [
            go.Bar(name=title, x=labels, y=[g.get(key) for g in groups])
            for key, title in bars
            if any(g.get(key) is not None for g in groups)
        ]
    )
    fig.update_layout(
        title=f"By {attribute['name']}",
        barmode="group",
        template="plotly_white",
        height=380,
        margin={"l": 60, "r": 20, "t": 50, "b": 80},
        legend={"orientation": "h", "y": -0.3},
    )
    return fig


def fairness_rows(fairness: dict[str, Any]) -> list[list[Any]]:
    """One summary row per attribute (and intersection)."""
    rows = []
    for a in fairness.get("attributes", []):
        four_fifths = a.get("four_fifths_rule")
        rows.append(
            [
                a["name"],
                len(a["groups"]),
                a["n_small_groups"],
                a.get("demographic_parity_difference"),
                a.get("demographic_parity_ratio"),
                a.get("equalized_odds_difference"),
                None if four_fifths is None else ("met" if four_fifths else "NOT met"),
            ]
        )
    return rows


def fairness_figures(fairness: dict[str, Any], task: str) -> list[Markup]:
    """A bar chart per single sensitive attribute (intersections are in the JSON and table)."""
    return [
        figure_html(fairness_figure(a, task), div_id=f"fig-fairness-{i}")
        for i, a in enumerate(fairness.get("attributes", []))
        if len(a["columns"]) == 1
    ]


def slice_rows(slices: dict[str, Any], top: int = TOP_SLICES) -> list[list[Any]]:
    """The ``top`` worst significant slices (all slices stay in the JSON)."""
    chosen = [s for s in slices.get("slices", []) if s["significant"]][:top]
    return [[s["label"], s["count"], s["metric"], s["gap"], s["q_value"]] for s in chosen]


def shap_figure(shap: dict[str, Any]) -> go.Figure:
    top = shap["features"][:MAX_SHAP_BARS][::-1]
    fig = go.Figure(
        go.Bar(
            x=[f["mean_abs"] for f in top],
            y=[f["name"] for f in top],
            orientation="h",
            name="mean |SHAP|",
        )
    )
    fig.update_layout(
        title="Mean |SHAP value| per column",
        template="plotly_white",
        height=max(380, 24 * len(top) + 100),
        margin={"l": 160, "r": 20, "t": 50, "b": 50},
        xaxis_title=f"mean |SHAP| ({shap['units']})",
    )
    return fig
