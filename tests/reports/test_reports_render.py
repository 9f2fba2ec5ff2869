"""The shared HTML renderer: self-contained pages, escaping, figures, atomic writes, mixin."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
import pytest
from markupsafe import Markup

from loopml.errors import InvalidInputError
from loopml.reports import (
    Report,
    Section,
    Table,
    figure_html,
    format_number,
    plotly_js,
    render_html,
    render_html_source,
    render_report,
    to_jsonable,
    write_report,
)

PLOTLY_MARKER = str(plotly_js())[:60]


def _figure() -> go.Figure:
    return go.Figure(go.Scatter(x=[1, 2, 3], y=[3, 1, 2]))


def test_report_page_has_header_sections_tables_and_figures() -> None:
    table = Table(["feature", "psi"], [["age", 0.31234], ["<b>", None]], row_status=["fail", None])
    sections = [
        Section(
            "Drift",
            "Per-feature drift.",
            tables=[table],
            figures=[
                figure_html(_figure(), div_id="fig-a"),
                figure_html(_figure(), div_id="fig-b"),
            ],
        ),
        Section("Notes", "Nothing else."),
    ]
    html = render_report(
        "Drift of churn:2",
        sections,
        subtitle="week 12",
        summary=[("rows", 1200)],
        generated_at="2024-05-01 10:00 UTC",
    )
    assert html.startswith("<!DOCTYPE html>")
    assert "<h1>Drift of churn:2</h1>" in html and "week 12" in html
    assert "Generated 2024-05-01 10:00 UTC" in html
    assert "<h2>Drift</h2>" in html and "<h2>Notes</h2>" in html
    assert '<tr class="fail">' in html and ">0.3123<" in html and ">1,200<" in html
    assert "&lt;b&gt;" in html and "<b>" not in html  # cells are escaped
    assert html.count(PLOTLY_MARKER) == 1  # plotly.js once, however many figures
    assert 'id="fig-a"' in html and 'id="fig-b"' in html
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"<link[^>]+href=", html)


def test_plotly_is_left_out_of_pages_without_figures() -> None:
    html = render_report("Summary", [Section("Only text", "No charts here.")])
    assert PLOTLY_MARKER not in html
    html = render_html(
        "report.html", {"title": "t", "sections": [], "summary": []}, include_plotlyjs=False
    )
    assert PLOTLY_MARKER not in html


def test_figure_html_is_a_div_without_the_library() -> None:
    snippet = figure_html(_figure(), div_id="my-fig")
    assert isinstance(snippet, Markup)
    assert '<div id="my-fig"' in snippet and "Plotly.newPlot" in snippet
    assert PLOTLY_MARKER not in snippet


def test_own_layout_can_extend_the_base_template() -> None:
    source = """{% extends "base.html" %}{% import "macros.html" as m %}
    {% block content %}{% call m.section("Alerts", "alerts") %}{{ m.badge("warn", "2 alerts") }}
    {{ m.figures(figs) }}{% endcall %}{% endblock %}"""
    html = render_html_source(source, {"title": "Monitor <x>", "figs": [figure_html(_figure())]})
    assert "<h1>Monitor &lt;x&gt;</h1>" in html
    assert '<section class="block" id="alerts">' in html
    assert '<span class="badge warn">2 alerts</span>' in html
    assert html.count(PLOTLY_MARKER) == 1


def test_template_errors_are_clear() -> None:
    with pytest.raises(InvalidInputError, match=r"no report template named 'nope\.html'"):
        render_html("nope.html", {"title": "t"})
    with pytest.raises(InvalidInputError, match=r"context of report template 'report\.html'"):
        render_html("report.html", {"title": "t"})
    with pytest.raises(InvalidInputError, match="could not be rendered"):
        render_html_source("{% block %}", {"title": "t"})


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "\u2014"),
        (math.nan, "\u2014"),
        (3, "3"),
        (12345, "12,345"),
        (0.123456, "0.1235"),
        (True, "yes"),
        ("x", "x"),
    ],
)
def test_format_number(value: Any, text: str) -> None:
    assert format_number(value) == text


def test_write_report_is_atomic_and_creates_folders(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "report.html"
    assert write_report(target, "<p>one</p>") == target
    write_report(target, "<p>two</p>")
    assert target.read_text(encoding="utf-8") == "<p>two</p>"
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]  # no temp files left
    with pytest.raises(InvalidInputError, match="it is a folder"):
        write_report(tmp_path / "a", "<p/>")


class _Demo(Report):
    def to_dict(self) -> dict[str, Any]:
        return {"score": np.float64(0.5), "missing": math.nan, "pair": (1, np.int64(2))}

    def to_html(self) -> str:
        return render_report("Demo", [Section("S", "it's <fine>")])


def test_report_mixin_gives_json_and_jupyter_display(tmp_path: Path) -> None:
    report = _Demo()
    assert json.loads(report.to_json()) == {"score": 0.5, "missing": None, "pair": [1, 2]}
    shown = report._repr_html_()
    assert shown.startswith('<iframe srcdoc="&lt;!DOCTYPE html&gt;')
    assert "it&amp;#39;s &amp;lt;fine&amp;gt;" in shown  # escaped once more for the attribute
    path = report.write_html(tmp_path / "demo.html")
    written = path.read_text(encoding="utf-8")
    assert written.startswith("<!DOCTYPE html>") and "<h2>S</h2>" in written


def test_to_jsonable_handles_numpy_and_non_finite_numbers() -> None:
    data = {"a": np.array([1.0, np.inf]), 2: {np.str_("b"): [np.bool_(True)]}}
    assert to_jsonable(data) == {"a": [1.0, None], "2": {"b": [True]}}


def test_write_report_under_a_file_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(InvalidInputError, match="it is a file, not a folder"):
        write_report(blocker / "report.html", "<html></html>")


def test_the_embedded_bundle_is_the_plotly_js_version_plotly_py_uses() -> None:
    from plotly.offline import get_plotlyjs_version

    header = str(plotly_js())[:200]
    assert "plotly.js (cartesian - minified)" in header
    assert f"v{get_plotlyjs_version()}" in header


def test_a_trace_type_outside_the_bundle_is_refused() -> None:
    with pytest.raises(ValueError, match="scattergl"):
        figure_html(go.Figure(go.Scattergl(x=[1, 2], y=[3, 4])))
