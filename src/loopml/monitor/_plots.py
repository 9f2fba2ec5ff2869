"""Plotly figures of the drift report: reference vs current distributions (drawn from binned
counts) and drift over time (from the stored reports of the model)."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import plotly.graph_objects as go

from loopml.reports import format_number

REFERENCE_COLOUR = "#7b8794"
CURRENT_COLOUR = "#2f6fde"
DRIFTED_COLOUR = "#b3261e"


def _percent(counts: list[int]) -> np.ndarray:
    array = np.asarray(counts, dtype=np.float64)
    total = array.sum()
    return 100 * array / total if total else array


def _histogram_axis(edges: list[float]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Bar centres, widths and hover labels of the plot bins, open tails included."""
    inner = np.asarray(edges, dtype=np.float64)
    width = float(inner[1] - inner[0])
    centres = np.concatenate(
        ([inner[0] - width / 2], (inner[:-1] + inner[1:]) / 2, [inner[-1] + width / 2])
    )
    widths = np.full(centres.size, width)
    labels = [f"below {format_number(float(inner[0]))}"]
    labels += [
        f"{format_number(float(a))} to {format_number(float(b))}"
        for a, b in itertools.pairwise(inner)
    ]
    labels.append(f"{format_number(float(inner[-1]))} and above")
    return centres, widths, labels


def distribution_figure(name: str, distribution: dict[str, Any], drifted: bool) -> go.Figure:
    """Overlaid bars of the reference and current shares of ``name``'s bins or categories."""
    reference = _percent(distribution["reference"])
    current = _percent(distribution["current"])
    if distribution["kind"] == "histogram":
        x, widths, labels = _histogram_axis(distribution["edges"])
        bar_options: dict[str, Any] = {"width": widths, "customdata": labels}
        hover = "%{customdata}<br>%{y:.2f}%"
    else:
        x = np.asarray(distribution["categories"], dtype=object)
        bar_options, hover = {}, "%{x}<br>%{y:.2f}%"
    figure = go.Figure()
    for label, shares, colour in (
        ("reference", reference, REFERENCE_COLOUR),
        ("current", current, DRIFTED_COLOUR if drifted else CURRENT_COLOUR),
    ):
        figure.add_bar(
            x=x,
            y=shares,
            name=label,
            marker_color=colour,
            opacity=0.6,
            hovertemplate=hover + f"<extra>{label}</extra>",
            **bar_options,
        )
    figure.update_layout(
        title={"text": f"{name}{' — drifted' if drifted else ''}", "font": {"size": 15}},
        barmode="overlay",
        bargap=0.05,
        yaxis_title="share of rows (%)",
        height=360,
        margin={"l": 56, "r": 16, "t": 48, "b": 48},
        legend={"orientation": "h", "y": 1.02, "x": 1, "xanchor": "right", "yanchor": "bottom"},
        template="plotly_white",
    )
    if distribution["kind"] == "bars":
        figure.update_xaxes(type="category")
    return figure


def _layout(figure: go.Figure, title: str, yaxis: str) -> go.Figure:
    figure.update_layout(
        title={"text": title, "font": {"size": 15}},
        yaxis_title=yaxis,
        height=380,
        margin={"l": 56, "r": 16, "t": 48, "b": 48},
        legend={"orientation": "v", "x": 1.02, "xanchor": "left"},
        template="plotly_white",
        hovermode="x unified",
    )
    return figure


def drift_history_figures(
    points: list[dict[str, Any]], thresholds: dict[str, float]
) -> list[go.Figure]:
    """Drift over time: the share of drifted features, and each feature's drift statistic,
    across monitor reports (``points``: ``{"time", "share_drifted", "features": {column:
    statistic}}``, oldest first). ``thresholds`` (the latest report's, per column) are shown in
    the hover text."""
    times = [str(p["time"]) for p in points]
    share = go.Figure()
    share.add_scatter(
        x=times,
        y=[100 * float(p["share_drifted"]) for p in points],
        mode="lines+markers",
        name="share drifted",
        line={"color": DRIFTED_COLOUR},
        hovertemplate="%{y:.0f}%<extra>share drifted</extra>",
    )
    share.update_yaxes(range=[0, 100])
    features = go.Figure()
    columns = list(dict.fromkeys(c for p in points for c in p.get("features", {})))
    for column in columns:
        values = [p.get("features", {}).get(column) for p in points]
        limit = thresholds.get(column)
        suffix = f" (threshold {format_number(limit)})" if limit is not None else ""
        features.add_scatter(
            x=times,
            y=values,
            mode="lines+markers",
            name=column,
            hovertemplate="%{y:.4f}" + f"<extra>{column}{suffix}</extra>",
        )
    return [
        _layout(share, "Share of drifted features over time", "share of features (%)"),
        _layout(features, "Drift statistic per feature over time", "statistic"),
    ]
