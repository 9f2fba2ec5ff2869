"""One page of the web UI: navigation, a title, summary cards and report sections.

Pages reuse the report building blocks (:class:`~loopml.reports.Section`, tables, Plotly figures)
but, unlike a report file, load plotly.js once from ``/static/plotly.js`` (the browser caches it)
instead of embedding it in every page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape

from loopml import __version__
from loopml.reports import Section, render_html_source

NAVIGATION: tuple[tuple[str, str], ...] = (
    ("/", "Overview"),
    ("/data", "Data"),
    ("/runs", "Runs"),
    ("/models", "Models"),
    ("/deployments", "Deployments"),
    ("/monitoring", "Monitoring"),
    ("/alerts", "Alerts"),
    ("/audit", "Audit"),
)

_TEMPLATE = """{% extends "base.html" %}
{% import "macros.html" as m %}
{% block title %}{{ title }} · loopml{% endblock %}
{% block styles %}{{ super() }}
nav.top { background:#1f2933; padding:0 32px; display:flex; gap:4px; align-items:center; }
nav.top .brand { color:#fff; font-weight:700; margin-right:20px; padding:12px 0; }
nav.top a { color:#cbd2d9; text-decoration:none; padding:12px 10px; font-size:14px; }
nav.top a.active, nav.top a:hover { color:#fff; background:#323f4b; }
form.filter { display:flex; gap:8px; margin-bottom:16px; }
form.filter input[type=text] { flex:1; padding:6px 10px; border:1px solid var(--line);
  border-radius:6px; font:inherit; }
form.filter button { padding:6px 14px; border:0; border-radius:6px; background:var(--accent);
  color:#fff; font:inherit; cursor:pointer; }
p.error { color:var(--fail); background:var(--fail-bg); padding:8px 12px; border-radius:6px; }
pre.json { background:var(--bg); padding:10px; border-radius:6px; overflow:auto; font-size:13px; }
a { color:var(--accent); }
{% endblock %}
{% block header %}
<nav class="top"><span class="brand">loopml</span>
{% for href, label in navigation %}
<a href="{{ href }}"{% if href == active %} class="active"{% endif %}>{{ label }}</a>
{% endfor %}
</nav>
{% if has_figures %}<script src="/static/plotly.js"></script>{% endif %}
<header class="page">
  <h1>{{ title }}</h1>
  {% if subtitle %}<p class="subtitle">{{ subtitle }}</p>{% endif %}
</header>
{% endblock %}
{% block summary %}
{% if error %}<p class="error">{{ error }}</p>{% endif %}
{{ m.cards(summary) }}
{% if form %}{{ form }}{% endif %}
{% endblock %}
{% block content %}
{% for s in sections %}
{% call m.section(s.title, s.anchor, s.text) %}
  {% for t in s.tables %}
  {{ m.table(t.columns, t.rows, t.row_status, t.caption) }}
  {% endfor %}
  {{ m.figures(s.figures) }}
{% endcall %}
{% endfor %}
{% endblock %}
{% block footer %}
<footer class="page">loopml {{ version }} · project {{ project }}</footer>
{% endblock %}
"""


@dataclass
class Page:
    """What one UI page shows; ``active`` is the navigation entry to highlight."""

    title: str
    active: str
    subtitle: str = ""
    summary: list[tuple[str, Any]] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    form: Markup | None = None
    error: str = ""

    def render(self, project: str) -> str:
        """The page as HTML (escaped except :class:`~markupsafe.Markup` values)."""
        context = {
            "title": self.title,
            "subtitle": self.subtitle,
            "summary": self.summary,
            "sections": self.sections,
            "form": self.form,
            "error": self.error,
            "active": self.active,
            "navigation": NAVIGATION,
            "has_figures": any(section.figures for section in self.sections),
            "project": project,
            "version": __version__,
        }
        return render_html_source(_TEMPLATE, context, include_plotlyjs=False)


def link(href: str, text: Any) -> Markup:
    """An ``<a>`` element; ``href`` and ``text`` are escaped."""
    return Markup('<a href="{}">{}</a>').format(href, text)


def badge(status: str, text: str) -> Markup:
    """A coloured badge (``pass``, ``fail``, ``warn``)."""
    return Markup('<span class="badge {}">{}</span>').format(status, text)


def json_block(value: str) -> Markup:
    """Pre-formatted JSON text."""
    return Markup('<pre class="json">{}</pre>').format(escape(value))


def filter_form(action: str, name: str, value: str, placeholder: str) -> Markup:
    """A one-field GET form (the run search box)."""
    return Markup(
        '<form class="filter" method="get" action="{}">'
        '<input type="text" name="{}" value="{}" placeholder="{}" aria-label="{}">'
        '<button type="submit">Search</button></form>'
    ).format(action, name, value, placeholder, placeholder)


def join(items: Sequence[Markup | str], separator: str = ", ") -> Markup:
    """Items joined by ``separator``, each escaped unless it is Markup."""
    return Markup(separator).join(escape(item) for item in items)
