"""Plotly figures of an evaluation, drawn from its JSON summaries (so a stored report re-renders).

Each function takes the corresponding entry of ``EvaluationReport.curves`` / ``.importance``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

_HEIGHT = 380
MAX_IMPORTANCE_BARS = 20


def _layout(fig: go.Figure, title: str, x: str, y: str, *, square: bool = False) -> go.Figure:
    fig.update_layout(
        title=title,
        template="plotly_white",
        height=_HEIGHT,
        margin={"l": 60, "r": 20, "t": 50, "b": 50},
        xaxis_title=x,
        yaxis_title=y,
        legend={"orientation": "h", "y": -0.2},
    )
    if square:
        fig.update_xaxes(range=[0, 1])
        fig.update_yaxes(range=[0, 1.02])
    return fig


def _diagonal(fig: go.Figure, name: str) -> None:
    line = {"dash": "dash", "color": "#9aa5b1"}
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name=name, line=line))


def roc_figure(roc: dict[str, Any]) -> go.Figure:
    fig = go.Figure(go.Scatter(x=roc["fpr"], y=roc["tpr"], mode="lines", name="model"))
    _diagonal(fig, "chance")
    return _layout(
        fig,
        f"ROC curve (AUC {roc['auc']:.3f})",
        "False positive rate",
        "True positive rate",
        square=True,
    )


def roc_per_class_figure(curves: dict[str, dict[str, Any]]) -> go.Figure:
    fig = go.Figure()
    for label, roc in curves.items():
        name = f"{label} (AUC {roc['auc']:.3f})"
        fig.add_trace(go.Scatter(x=roc["fpr"], y=roc["tpr"], mode="lines", name=name))
    _diagonal(fig, "chance")
    return _layout(
        fig,
        "ROC curves, one class vs rest",
        "False positive rate",
        "True positive rate",
        square=True,
    )


def pr_figure(pr: dict[str, Any]) -> go.Figure:
    fig = go.Figure(go.Scatter(x=pr["recall"], y=pr["precision"], mode="lines", name="model"))
    prevalence = pr["prevalence"]
    fig.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[prevalence, prevalence],
            mode="lines",
            name="chance (prevalence)",
            line={"dash": "dash", "color": "#9aa5b1"},
        )
    )
    return _layout(fig, "Precision-recall curve", "Recall", "Precision", square=True)


def threshold_figure(data: dict[str, Any], chosen: float | None = None) -> go.Figure:
    """Precision, recall and F1 against the decision threshold; ``chosen`` drawn as a line."""
    fig = go.Figure()
    for name in ("precision", "recall", "f1"):
        label = "F1" if name == "f1" else name
        fig.add_trace(go.Scatter(x=data["threshold"], y=data[name], mode="lines", name=label))
    if chosen is not None:
        fig.add_vline(
            x=chosen,
            line={"dash": "dash", "color": "#52606d"},
            annotation_text=f"chosen {chosen:.3f}",
        )
    return _layout(fig, "Metrics vs threshold", "Threshold", "Metric", square=True)


def gain_figure(gain: dict[str, Any]) -> go.Figure:
    fig = go.Figure(
        go.Scatter(x=[0.0, *gain["fraction"]], y=[0.0, *gain["gain"]], mode="lines", name="model")
    )
    _diagonal(fig, "random")
    return _layout(
        fig,
        "Cumulative gain",
        "Share of rows (highest scores first)",
        "Share of positives found",
        square=True,
    )


def lift_figure(gain: dict[str, Any]) -> go.Figure:
    fig = go.Figure(go.Scatter(x=gain["fraction"], y=gain["lift"], mode="lines", name="model"))
    fig.add_hline(y=1.0, line={"dash": "dash", "color": "#9aa5b1"})
    fig = _layout(fig, "Lift", "Share of rows (highest scores first)", "Lift over random")
    fig.update_xaxes(range=[0, 1])
    return fig


def calibration_figure(cal: dict[str, Any]) -> go.Figure:
    fig = go.Figure(
        go.Scatter(
            x=cal["mean_predicted"],
            y=cal["fraction_positive"],
            mode="lines+markers",
            name="model",
            customdata=cal["count"],
            hovertemplate="predicted %{x:.3f}<br>observed %{y:.3f}"
            "<br>%{customdata} rows<extra></extra>",
        )
    )
    _diagonal(fig, "perfectly calibrated")
    return _layout(
        fig, "Calibration", "Mean predicted probability", "Observed positive share", square=True
    )


def confusion_figure(conf: dict[str, Any]) -> go.Figure:
    matrix = np.asarray(conf["matrix"], dtype=float)
    labels = conf["labels"]
    fig = go.Figure(
        go.Heatmap(
            z=matrix,
            x=labels,
            y=labels,
            colorscale="Blues",
            showscale=False,
            text=matrix.astype(int).astype(str),
            texttemplate="%{text}",
            hovertemplate="actual %{y}<br>predicted %{x}<br>%{z} rows<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category")
    return _layout(fig, "Confusion matrix", "Predicted", "Actual")


def actual_vs_predicted_figure(sample: dict[str, Any]) -> go.Figure:
    actual, predicted = sample["actual"], sample["predicted"]
    fig = go.Figure(
        go.Scatter(
            x=predicted, y=actual, mode="markers", name="rows", marker={"size": 5, "opacity": 0.5}
        )
    )
    low, high = min(actual + predicted), max(actual + predicted)
    fig.add_trace(
        go.Scatter(
            x=[low, high],
            y=[low, high],
            mode="lines",
            name="perfect",
            line={"dash": "dash", "color": "#9aa5b1"},
        )
    )
    title = f"Actual vs predicted ({len(actual):,} of {sample['n_total']:,} rows)"
    return _layout(fig, title, "Predicted", "Actual")


def residuals_figure(sample: dict[str, Any]) -> go.Figure:
    actual, predicted = np.asarray(sample["actual"]), np.asarray(sample["predicted"])
    fig = go.Figure(
        go.Scatter(
            x=predicted,
            y=actual - predicted,
            mode="markers",
            name="rows",
            marker={"size": 5, "opacity": 0.5},
        )
    )
    fig.add_hline(y=0, line={"dash": "dash", "color": "#9aa5b1"})
    return _layout(fig, "Residuals vs predicted", "Predicted", "Actual - predicted")


def residual_histogram_figure(hist: dict[str, Any]) -> go.Figure:
    edges = np.asarray(hist["bin_edges"])
    fig = go.Figure(
        go.Bar(x=(edges[:-1] + edges[1:]) / 2, y=hist["count"], width=np.diff(edges), name="rows")
    )
    return _layout(fig, "Residual distribution", "Actual - predicted", "Rows")


def importance_figure(importance: dict[str, Any]) -> go.Figure:
    top = importance["features"][:MAX_IMPORTANCE_BARS][::-1]
    fig = go.Figure(
        go.Bar(
            x=[f["mean"] for f in top],
            y=[f["name"] for f in top],
            orientation="h",
            error_x={"type": "data", "array": [f["std"] for f in top]},
            name="importance",
        )
    )
    fig.update_layout(height=max(_HEIGHT, 24 * len(top) + 100))
    fig.update_layout(
        title="Permutation importance",
        template="plotly_white",
        margin={"l": 160, "r": 20, "t": 50, "b": 50},
        xaxis_title=importance["measure"],
    )
    return fig
