"""HTML reports shared by the CLI, the Python API and the web UI.

Pages are Jinja2 templates (in ``loopml/reports/templates``) extending ``base.html``; they are
self-contained — inline CSS, plotly.js inline once — so they open offline.

Typical use::

    from loopml.reports import Section, Table, figure_html, render_report, write_report

    html = render_report("Drift", [Section("Features", tables=[Table(["feature", "psi"], rows)],
                                           figures=[figure_html(fig)])])
    write_report("drift.html", html)

For a page layout of your own, ``render_html_source('{% extends "base.html" %}…', context)``;
classes that hold a report inherit :class:`Report` for ``to_json`` and Jupyter display.
"""

from loopml.reports._base import Report, to_jsonable
from loopml.reports._render import (
    figure_html,
    format_number,
    plotly_js,
    render_html,
    render_html_source,
    write_report,
)
from loopml.reports._sections import Section, Table, render_report

__all__ = [
    "Report",
    "Section",
    "Table",
    "figure_html",
    "format_number",
    "plotly_js",
    "render_html",
    "render_html_source",
    "render_report",
    "to_jsonable",
    "write_report",
]
