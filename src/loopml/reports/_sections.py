"""A generic report page made of sections, tables and figures (no template of your own needed)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from markupsafe import Markup

from loopml.reports._render import render_html

Status = Literal["pass", "fail", "warn", "info"]


@dataclass
class Table:
    """A table: ``columns`` headers and ``rows`` of cells (numbers are formatted for people).

    ``row_status`` optionally colours each row (``pass`` green, ``fail`` red, ``warn`` amber).
    """

    columns: list[str]
    rows: list[list[Any]]
    row_status: list[Status | None] | None = None
    caption: str = ""

    def status_of(self, index: int) -> str:
        if self.row_status is None or index >= len(self.row_status):
            return ""
        return self.row_status[index] or ""


@dataclass
class Section:
    """A titled part of a page: a paragraph, tables, then figures (from ``figure_html``)."""

    title: str
    text: str = ""
    tables: list[Table] = field(default_factory=list)
    figures: list[Markup] = field(default_factory=list)
    anchor: str = ""


def render_report(
    title: str,
    sections: Sequence[Section],
    *,
    subtitle: str = "",
    summary: Sequence[tuple[str, Any]] = (),
    generated_at: str | None = None,
) -> str:
    """A complete page: header (title, subtitle, timestamp), key figures, then ``sections``.

    ``summary`` is a short list of ``(label, value)`` pairs shown as cards under the header.
    plotly.js is embedded only if some section has figures.
    """
    context: dict[str, Any] = {
        "title": title,
        "subtitle": subtitle,
        "sections": list(sections),
        "summary": list(summary),
    }
    if generated_at is not None:
        context["generated_at"] = generated_at
    has_figures = any(section.figures for section in sections)
    return render_html("report.html", context, include_plotlyjs=has_figures)
