"""The HTML page of a :class:`~loopml.data.DataProfile`: tables and Plotly figures, offline."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go
from markupsafe import Markup

from loopml.reports import figure_html, render_html

if TYPE_CHECKING:
    from loopml.data._profile import DataProfile

_MAX_DISTRIBUTIONS = 60


def _layout(fig: go.Figure, title: str, height: int = 280) -> go.Figure:
    fig.update_layout(
        title=title, height=height, margin={"l": 40, "r": 10, "t": 40, "b": 30}, showlegend=False
    )
    return fig


def _distribution(name: str, stats: dict[str, Any]) -> go.Figure | None:
    histogram = stats.get("histogram")
    if histogram:
        edges, counts = histogram["edges"], histogram["counts"]
        centres = [edges[i] for i in range(len(counts))]
        return _layout(go.Figure(go.Bar(x=centres, y=counts)), name)
    top = stats.get("top")
    if top:
        labels = [str(label) for label, _ in top]
        return _layout(go.Figure(go.Bar(x=[c for _, c in top], y=labels, orientation="h")), name)
    return None


def _heatmap(title: str, payload: dict[str, Any]) -> go.Figure:
    labels = payload["columns"]
    fig = go.Figure(
        go.Heatmap(z=payload["matrix"], x=labels, y=labels, zmin=-1, zmax=1, colorscale="RdBu")
    )
    return _layout(fig, title, height=max(320, 22 * len(labels) + 120))


def render_profile(profile: DataProfile) -> str:
    """One self-contained HTML page (plotly.js inline) for ``profile``."""
    data = profile.to_dict()
    column_rows = []
    for name, stats in data["columns"].items():
        quantiles = stats.get("quantiles") or {}
        column_rows.append(
            [
                name,
                stats["kind"],
                stats["role"],
                f"{stats['missing']:,} ({stats['missing_share']:.1%})",
                stats["distinct"],
                stats.get("mean"),
                stats.get("std"),
                stats.get("min"),
                quantiles.get("0.5"),
                stats.get("max"),
                stats.get("outliers"),
            ]
        )
    target = data["target"]
    target_rows = []
    if target:
        ranked = sorted(target["features"].items(), key=lambda item: -item[1]["value"])
        target_rows = [[name, p["measure"], p["value"]] for name, p in ranked]
    missing = data["missing"]
    missing_figures: list[Markup] = []
    if missing["columns"]:
        names = list(missing["columns"])
        bar = go.Bar(x=names, y=[missing["columns"][n] / data["n_rows"] for n in names])
        missing_figures.append(figure_html(_layout(go.Figure(bar), "Share of rows missing")))
    correlation_figures = [
        figure_html(_heatmap(title, data["correlations"][key]))
        for key, title in (
            ("pearson", "Pearson"),
            ("spearman", "Spearman"),
            ("cramers_v", "Cramér's V"),
        )
        if key in data["correlations"]
    ]
    distribution_figures = []
    for name, stats in list(data["columns"].items())[:_MAX_DISTRIBUTIONS]:
        fig = _distribution(name, stats)
        if fig is not None:
            distribution_figures.append(figure_html(fig))
    context = {
        "title": profile.title,
        "subtitle": f"{data['n_rows']:,} rows x {data['n_columns']} columns",
        "cards": [
            ("rows", data["n_rows"]),
            ("columns", data["n_columns"]),
            ("duplicate rows", data["duplicates"]),
            ("missing cells", f"{missing['cells_share']:.1%}"),
            ("warnings", len(data["warnings"])),
        ],
        "warning_rows": [[w["kind"], w["column"] or "", w["message"]] for w in data["warnings"]],
        "column_rows": column_rows,
        "target_rows": target_rows,
        "target_text": (
            f"How well each feature alone predicts {target['column']!r} ({target['task']}); "
            "1 means perfectly."
            if target
            else ""
        ),
        "missing_text": (
            f"{missing['rows_with_missing']:,} rows have at least one missing value; the most "
            "common patterns of columns missing together:"
        ),
        "pattern_rows": [
            [", ".join(p["columns"]) or "(none missing)", p["rows"]] for p in missing["patterns"]
        ],
        "missing_figures": missing_figures,
        "correlation_figures": correlation_figures,
        "distribution_figures": distribution_figures,
    }
    return render_html("profile.html", context)
