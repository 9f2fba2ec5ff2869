"""Figures and tables of the clustering and anomaly sections of the evaluation report.

Built from ``EvaluationReport.unsupervised`` (see :mod:`loopml.evaluate._unsupervised`), so a
stored report re-renders the same page.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import plotly.graph_objects as go
from markupsafe import Markup

from loopml.reports import figure_html, format_number

_HEIGHT = 400
PROFILE_COLUMNS = 20
"""Columns of the profile heatmap: those whose cluster means differ most from the overall mean."""


@dataclass
class PageSection:
    """One section of the report page: title, anchor, explanation, figures and tables."""

    title: str
    anchor: str
    text: str
    figures: list[Markup] = field(default_factory=list)
    tables: list[tuple[list[str], list[list[Any]]]] = field(default_factory=list)


def _layout(fig: go.Figure, title: str, x: str, y: str) -> go.Figure:
    fig.update_layout(
        title=title,
        template="plotly_white",
        height=_HEIGHT,
        margin={"l": 70, "r": 20, "t": 50, "b": 60},
        xaxis_title=x,
        yaxis_title=y,
        legend={"orientation": "h", "y": -0.2},
    )
    return fig


def _cluster_name(cluster: int) -> str:
    return "noise" if cluster == -1 else f"cluster {cluster}"


def sizes_figure(sizes: list[dict[str, Any]]) -> go.Figure:
    names = [_cluster_name(s["cluster"]) for s in sizes]
    fig = go.Figure(go.Bar(x=names, y=[s["count"] for s in sizes], name="rows"))
    return _layout(fig, "Cluster sizes", "cluster", "rows")


def projection_figure(projection: dict[str, Any]) -> go.Figure:
    fig = go.Figure()
    for cluster in sorted(set(projection["cluster"])):
        rows = [i for i, c in enumerate(projection["cluster"]) if c == cluster]
        fig.add_trace(
            go.Scatter(
                x=[projection["x"][i] for i in rows],
                y=[projection["y"][i] for i in rows],
                mode="markers",
                marker={"size": 5, "opacity": 0.7},
                name=_cluster_name(cluster),
            )
        )
    share = projection["explained_variance"]
    return _layout(
        fig,
        f"Clusters on the first two principal components ({projection['n_points']:,} rows)",
        f"PC1 ({share[0]:.0%} of variance)",
        f"PC2 ({share[1]:.0%} of variance)",
    )


def profile_figure(numeric: list[dict[str, Any]]) -> go.Figure:
    """Heatmap of cluster mean minus overall mean, in overall standard deviations."""
    spread: dict[str, float] = {}
    for row in numeric:
        spread[row["column"]] = max(spread.get(row["column"], 0.0), abs(row["z"]))
    columns = sorted(spread, key=lambda c: -spread[c])[:PROFILE_COLUMNS]
    clusters = sorted({row["cluster"] for row in numeric})
    cell = {(row["cluster"], row["column"]): row["z"] for row in numeric}
    z = [[cell.get((k, c)) for c in columns] for k in clusters]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=columns,
            y=[_cluster_name(k) for k in clusters],
            colorscale="RdBu",
            reversescale=True,
            zmid=0,
            colorbar={"title": "z"},
        )
    )
    fig = _layout(fig, "Cluster profiles: mean vs overall (standard deviations)", "", "")
    fig.update_layout(height=max(_HEIGHT, 40 * len(clusters) + 160))
    return fig


def score_figure(details: dict[str, Any]) -> go.Figure:
    """Histogram of anomaly scores (known anomalies overlaid) with the flagging threshold."""
    edges = details["histogram"]["edges"]
    centers = [(a + b) / 2 for a, b in itertools.pairwise(edges)]
    counts = details["histogram"]["counts"]
    fig = go.Figure(go.Bar(x=centers, y=counts, name="all rows", opacity=0.6))
    if details.get("histogram_known") is not None:
        fig.add_trace(
            go.Bar(x=centers, y=details["histogram_known"], name="known anomalies", opacity=0.8)
        )
    if details.get("threshold") is not None:
        fig.add_vline(x=details["threshold"], line_dash="dash", annotation_text="threshold")
    fig.update_layout(barmode="overlay", bargap=0.02)
    return _layout(fig, "Anomaly score distribution", "score (higher: more anomalous)", "rows")


def unsupervised_sections(report: Any) -> list[PageSection]:
    """The clustering or anomaly sections of ``report`` (an ``EvaluationReport``)."""
    details = report.unsupervised
    if not details:
        return []
    if report.task == "clustering":
        return _clustering_sections(details)
    return _anomaly_sections(details)


def _clustering_sections(details: dict[str, Any]) -> list[PageSection]:
    sizes = details["sizes"]
    structure = PageSection(
        "Clusters",
        "clusters",
        f"Method {details['method']}. Silhouette on a random sample of "
        f"{format_number(details['silhouette_sample'])} rows (the same cluster sizes assigned "
        f"at random score {format_number(details.get('baseline'))}); intervals from bootstrap "
        f"replicates of {format_number(details['bootstrap_rows'])} rows; metrics are measured in "
        "the model's preprocessed feature space, noise rows left out.",
        figures=[figure_html(sizes_figure(sizes), div_id="fig-cluster-sizes")],
        tables=[
            (
                ["cluster", "rows", "share"],
                [[_cluster_name(s["cluster"]), s["count"], s["share"]] for s in sizes],
            )
        ],
    )
    if details.get("projection"):
        structure.figures.append(
            figure_html(projection_figure(details["projection"]), div_id="fig-cluster-pca")
        )
    profiles = details["profiles"]
    profile = PageSection(
        "Cluster profiles",
        "profiles",
        "How each cluster differs from the whole data: numeric columns as the cluster mean "
        "minus the overall mean in overall standard deviations; other columns as the cluster's "
        "most common value, its share in the cluster and overall.",
    )
    if profiles["numeric"]:
        profile.figures.append(
            figure_html(profile_figure(profiles["numeric"]), div_id="fig-cluster-profiles")
        )
        profile.tables.append(
            (
                ["cluster", "column", "mean", "overall mean", "difference (sd)"],
                [
                    [_cluster_name(r["cluster"]), r["column"], r["mean"], r["overall"], r["z"]]
                    for r in profiles["numeric"]
                ],
            )
        )
    if profiles["categorical"]:
        profile.tables.append(
            (
                ["cluster", "column", "most common", "share in cluster", "share overall"],
                [
                    [_cluster_name(r["cluster"]), r["column"], r["top"], r["share"], r["overall"]]
                    for r in profiles["categorical"]
                ],
            )
        )
    return [structure, profile]


def _anomaly_sections(details: dict[str, Any]) -> list[PageSection]:
    text = (
        f"Method {details['method']}; {format_number(details['flagged'])} row(s) flagged above "
        f"the threshold {format_number(details.get('threshold'))}. Intervals from bootstrap "
        f"replicates of {format_number(details['bootstrap_rows'])} rows."
    )
    if details.get("labelled"):
        text += (
            f" {format_number(details['known_anomalies'])} known anomalies (prevalence "
            f"{format_number(details['prevalence'])}, the precision of flagging at random); "
            f"precision and recall at k = {format_number(details['k'])}, the flagged count "
            "(the known count when nothing is flagged)."
        )
    else:
        text += " The data holds no known anomalies, so detection quality is not measured."
    return [
        PageSection(
            "Anomalies",
            "anomalies",
            text,
            figures=[figure_html(score_figure(details), div_id="fig-anomaly-scores")],
        )
    ]
