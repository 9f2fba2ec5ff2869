"""The pages of the web UI, each built from the project's store as a :class:`Page`.

Every view reads; none writes. A view raises :class:`~loopml.errors.NotFoundError` for an
unknown run, model or version (the app answers 404 with the message), and a bad run filter is
shown on the page as the parser's one-sentence error.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import plotly.graph_objects as go

from loopml.errors import InvalidInputError, NotFoundError
from loopml.project import Project
from loopml.reports import Section, Table, figure_html
from loopml.store import ModelVersion, Run
from loopml.ui._page import Page, badge, filter_form, join, json_block, link

RUN_PAGE_SIZE = 200
EVENT_PAGE_SIZE = 200
REPORT_FILES = ("evaluation.html", "model_card.html", "evaluation.json", "model_card.md")
"""The files of a model version's report folder that the UI links to and serves."""


def _time(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else ""


def _line_figure(title: str, x: list[Any], series: dict[str, list[Any]], y_title: str) -> Any:
    fig = go.Figure()
    for name, values in series.items():
        fig.add_trace(go.Scatter(x=x, y=values, mode="lines+markers", name=name))
    fig.update_layout(
        title=title, height=360, margin={"l": 50, "r": 20, "t": 50, "b": 40}, yaxis_title=y_title
    )
    return figure_html(fig)


def _run_link(run_id: str | None) -> Any:
    return link(f"/runs/{run_id}", run_id[:12]) if run_id else ""


def _model_link(model: ModelVersion) -> Any:
    return link(f"/models/{model.name}/{model.version}", model.ref)


def _primary_metric(project: Project) -> str | None:
    return project.charter.metric


def overview(project: Project) -> Page:
    """The project at a glance: the charter's question, champions, latest activity."""
    charter = project.charter
    store = project.store
    models = project.registry.list()
    datasets = store.datasets.list(project.name)
    runs = store.runs.list(project.name, limit=RUN_PAGE_SIZE)
    reports = store.monitoring.list(project.name, limit=1)
    alerts = store.alerts.list(project.name, limit=10)
    champions = [m for m in models if "champion" in m.aliases]
    summary: list[tuple[str, Any]] = [
        ("task", charter.task),
        ("target", charter.target or "—"),
        ("dataset versions", len(datasets)),
        ("runs", len(runs) if len(runs) < RUN_PAGE_SIZE else f"{RUN_PAGE_SIZE}+"),
        ("model versions", len(models)),
    ]
    if reports:
        summary.append(("share drifted (latest)", reports[0].summary.get("share_drifted")))
    question = Section(
        "The question",
        tables=[
            Table(
                ["", ""],
                [
                    ["problem", charter.problem or "—"],
                    ["business KPI", charter.kpi or "—"],
                    ["primary metric", charter.metric or "default for the task"],
                    ["validation policy", charter.validation],
                ],
            )
        ],
    )
    champion_rows = [
        [_model_link(m), m.stage, _run_link(m.run_id), _metrics_text(m.metrics)] for m in champions
    ]
    sections = [
        question,
        Section(
            "Champions",
            text="" if champions else "No model holds the champion alias yet.",
            tables=[Table(["model", "stage", "run", "metrics"], champion_rows)]
            if champions
            else [],
        ),
    ]
    if alerts:
        sections.append(
            Section(
                "Recent alerts",
                tables=[
                    Table(
                        ["time", "rule", "severity", "metric", "value", "message"],
                        [
                            [_time(a.time), a.rule, a.severity, a.metric, a.value, a.message]
                            for a in alerts
                        ],
                        row_status=["fail" if a.severity == "critical" else "warn" for a in alerts],
                    )
                ],
            )
        )
    events = store.audit.list(limit=10)
    if events:
        sections.append(_audit_section("Latest changes", list(reversed(events))))
    return Page(
        project.name,
        "/",
        subtitle=charter.problem or f"a {charter.task} project",
        summary=summary,
        sections=sections,
    )


def _metrics_text(metrics: dict[str, float], limit: int = 4) -> str:
    items = sorted(metrics.items())[:limit]
    return ", ".join(f"{k}={v:.4g}" for k, v in items)


def datasets(project: Project) -> Page:
    """Every dataset version, newest first, with its lineage parent and source."""
    versions = project.store.datasets.list(project.name)
    rows = [
        [
            v.id,
            v.parent_id or "",
            v.n_rows,
            v.n_columns,
            _source_text(v.source),
            _time(v.created_at),
        ]
        for v in versions
    ]
    sections = [
        Section(
            "Dataset versions",
            text="" if versions else "Nothing ingested yet: run `loopml ingest`.",
            tables=[Table(["version", "parent", "rows", "columns", "source", "created"], rows)],
        )
    ]
    if len(versions) > 1:
        ordered = sorted(versions, key=lambda v: v.created_at)
        sections.append(
            Section(
                "Rows per version",
                figures=[
                    _line_figure(
                        "Rows per dataset version",
                        [v.id for v in ordered],
                        {"rows": [v.n_rows for v in ordered]},
                        "rows",
                    )
                ],
            )
        )
    return Page("Data", "/data", summary=[("versions", len(versions))], sections=sections)


def _source_text(source: dict[str, Any]) -> str:
    for key in ("path", "query", "table", "url"):
        if source.get(key):
            return str(source[key])
    return json.dumps(source)[:80]


def runs(project: Project, query: str = "", order: str = "") -> Page:
    """Runs matching the search box's filter (the ``loopml runs search`` language)."""
    form = filter_form("/runs", "q", query, "metrics.roc_auc > 0.8 and params.family = 'lightgbm'")
    error = ""
    found: list[Run] = []
    try:
        found = project.store.runs.search(
            project.name,
            query.strip() or None,
            order_by=[order] if order.strip() else None,
            limit=RUN_PAGE_SIZE,
        )
    except InvalidInputError as exc:
        error = str(exc)
    metric_keys = sorted({k for run in found for k in run.metrics})[:6]
    rows = [
        [
            _run_link(run.id),
            run.name,
            run.kind,
            badge(_status(run.status), run.status),
            run.params.get("family", run.params.get("model", "")),
            *[run.metrics.get(k) for k in metric_keys],
            _time(run.start_time),
        ]
        for run in found
    ]
    columns = ["run", "name", "kind", "status", "family", *metric_keys, "started"]
    return Page(
        "Runs",
        "/runs",
        subtitle="Filter like `loopml runs search`; order with ?order=metrics.NAME",
        summary=[("shown", len(found))],
        sections=[Section("Runs", tables=[Table(columns, rows)])],
        form=form,
        error=error,
    )


def _status(status: str) -> str:
    return {"finished": "pass", "failed": "fail"}.get(status, "warn")


def run_detail(project: Project, run_id: str) -> Page:
    """One run: params, latest metrics, tags, artifacts, metric histories, child runs.

    Raises:
        NotFoundError: no run has that id (or unique prefix).
    """
    store = project.store
    run = store.runs.get(run_id)
    sections = [
        Section(
            "Parameters",
            tables=[Table(["param", "value"], [[k, v] for k, v in sorted(run.params.items())])],
        ),
        Section(
            "Metrics",
            tables=[Table(["metric", "value"], [[k, v] for k, v in sorted(run.metrics.items())])],
        ),
    ]
    figures = []
    for key in sorted(run.metrics):
        history = store.runs.metric_history(run.id, key)
        if len(history) > 1:
            figures.append(
                _line_figure(key, [p.step for p in history], {key: [p.value for p in history]}, key)
            )
    if figures:
        sections.append(Section("Metric histories", figures=figures))
    if run.tags:
        sections.append(
            Section("Tags", tables=[Table(["tag", "value"], sorted(map(list, run.tags.items())))])
        )
    if run.artifacts:
        sections.append(
            Section(
                "Artifacts",
                tables=[Table(["name", "sha-256"], sorted(map(list, run.artifacts.items())))],
            )
        )
    children = store.runs.list(project.name, parent_id=run.id, limit=RUN_PAGE_SIZE)
    if children:
        keys = sorted({k for child in children for k in child.metrics})[:5]
        sections.append(
            Section(
                f"Child runs ({len(children)})",
                tables=[
                    Table(
                        ["run", "name", "status", *keys],
                        [
                            [
                                _run_link(c.id),
                                c.name,
                                c.status,
                                *[c.metrics.get(k) for k in keys],
                            ]
                            for c in children
                        ],
                    )
                ],
            )
        )
    summary: list[tuple[str, Any]] = [
        ("kind", run.kind),
        ("status", run.status),
        ("dataset", run.dataset_id or "—"),
        ("started", _time(run.start_time)),
    ]
    if run.parent_id:
        summary.append(("parent", _run_link(run.parent_id)))
    return Page(f"Run {run.name}", "/runs", subtitle=run.id, summary=summary, sections=sections)


def models(project: Project) -> Page:
    """Every model version with its stage, aliases and primary metric; the metric per version."""
    versions = project.registry.list()
    metric = _primary_metric(project)
    rows = [
        [
            _model_link(m),
            m.stage,
            join(m.aliases),
            m.metrics.get(metric) if metric else _metrics_text(m.metrics),
            _gates_badge(m),
            _run_link(m.run_id),
            _time(m.created_at),
        ]
        for m in versions
    ]
    sections = [
        Section(
            "Model versions",
            text="" if versions else "Nothing registered yet: run `loopml train`.",
            tables=[
                Table(
                    ["model", "stage", "aliases", metric or "metrics", "gates", "run", "added"],
                    rows,
                )
            ],
        )
    ]
    by_name: dict[str, list[ModelVersion]] = defaultdict(list)
    for m in versions:
        by_name[m.name].append(m)
    figures = []
    for name, items in sorted(by_name.items()):
        items.sort(key=lambda m: m.version)
        keys = [metric] if metric else sorted({k for m in items for k in m.metrics})[:3]
        series = {k: [m.metrics.get(k) for m in items] for k in keys}
        if len(items) > 1 and series:
            figures.append(
                _line_figure(
                    f"{name}: metrics by version", [m.version for m in items], series, "score"
                )
            )
    if figures:
        sections.append(Section("Across versions", figures=figures))
    return Page("Models", "/models", summary=[("versions", len(versions))], sections=sections)


def _gates_badge(model: ModelVersion) -> Any:
    if not model.gates:
        return ""
    failed = [g for g in model.gates if not g.get("passed")]
    return badge("fail", f"{len(failed)} failed") if failed else badge("pass", "passed")


def model_detail(project: Project, name: str, version: int) -> Page:
    """One model version: metrics, gates, aliases, approvals, its audit trail and reports.

    Raises:
        NotFoundError: no such model version.
    """
    model = project.registry.get(f"{name}:{version}")
    sections = [
        Section(
            "Metrics",
            tables=[Table(["metric", "value"], [[k, v] for k, v in sorted(model.metrics.items())])],
        )
    ]
    if model.gates:
        sections.append(
            Section(
                "Acceptance gates",
                tables=[
                    Table(
                        ["gate", "passed", "value", "limit", "message"],
                        [
                            [
                                g.get("name"),
                                g.get("passed"),
                                g.get("value"),
                                g.get("limit"),
                                g.get("message", ""),
                            ]
                            for g in model.gates
                        ],
                        row_status=["pass" if g.get("passed") else "fail" for g in model.gates],
                    )
                ],
            )
        )
    folder = project.paths.reports / f"{model.name}-v{model.version}"
    files = [f for f in REPORT_FILES if (folder / f).is_file()]
    sections.append(
        Section(
            "Reports",
            text="" if files else f"No report yet: run `loopml evaluate {model.ref}`.",
            tables=[
                Table(
                    ["file"],
                    [[link(f"/reports/{model.name}/{model.version}/{f}", f)] for f in files],
                )
            ]
            if files
            else [],
        )
    )
    approvals = project.store.models.approvals(model.name, model.version)
    if approvals:
        sections.append(
            Section(
                "Approvals",
                tables=[
                    Table(
                        ["time", "approver", "reason"],
                        [[_time(a.time), a.approver, a.reason] for a in approvals],
                    )
                ],
            )
        )
    events = project.store.audit.list(target=model.ref, limit=EVENT_PAGE_SIZE)
    if events:
        sections.append(_audit_section("Audit trail", events))
    if model.signature:
        sections.append(Section("Signature (data contract)", tables=[], text=""))
        sections[-1].tables.append(
            Table(["contract"], [[json_block(json.dumps(model.signature, indent=2)[:20_000])]])
        )
    summary: list[tuple[str, Any]] = [
        ("task", model.task),
        ("stage", model.stage),
        ("aliases", ", ".join(model.aliases) or "—"),
        ("dataset", model.dataset_id or "—"),
    ]
    if model.run_id:
        summary.append(("run", _run_link(model.run_id)))
    return Page(
        model.ref, "/models", subtitle=model.description, summary=summary, sections=sections
    )


def report_path(project: Project, name: str, version: int, filename: str) -> Any:
    """The path of one report file of a model version.

    Raises:
        NotFoundError: an unknown file name, or the report has not been written.
    """
    if filename not in REPORT_FILES:
        raise NotFoundError(
            f"There is no report file {filename!r}.", hint="Use one of: " + ", ".join(REPORT_FILES)
        )
    project.registry.get(f"{name}:{version}")
    path = project.paths.reports / f"{name}-v{version}" / filename
    if not path.is_file():
        raise NotFoundError(
            f"{name}:{version} has no {filename} yet.",
            hint=f"Run `loopml evaluate {name}:{version}`.",
        )
    return path


def deployments(project: Project) -> Page:
    """Every deployment and its routing policy."""
    items = project.store.deployments.list()
    rows = [
        [
            d.name,
            d.policy.get("kind", d.policy.get("strategy", "")),
            _time(d.updated_at),
            json_block(json.dumps(d.policy, indent=2, default=str)),
        ]
        for d in items
    ]
    return Page(
        "Deployments",
        "/deployments",
        summary=[("deployments", len(items))],
        sections=[
            Section(
                "Deployments",
                text="" if items else "No deployment yet: see `loopml deploy --help`.",
                tables=[Table(["name", "strategy", "updated", "policy"], rows)] if items else [],
            )
        ],
    )


def monitoring(project: Project) -> Page:
    """Monitor reports, newest first, and drift over time per model."""
    reports = project.store.monitoring.list(project.name, limit=EVENT_PAGE_SIZE)
    rows = [
        [
            _time(r.time),
            f"{r.model_name}:{r.model_version}" if r.model_name else "(files)",
            r.summary.get("rows"),
            r.summary.get("share_drifted"),
            badge("fail", "drift") if r.summary.get("dataset_drift") else badge("pass", "stable"),
            ", ".join(map(str, r.summary.get("drifted", [])[:8])),
        ]
        for r in reports
    ]
    sections = [
        Section(
            "Monitor reports",
            text="" if reports else "No monitor report yet: run `loopml monitor`.",
            tables=[
                Table(
                    ["time", "model", "rows", "share drifted", "verdict", "drifted features"], rows
                )
            ]
            if reports
            else [],
        )
    ]
    by_model: dict[str, list[Any]] = defaultdict(list)
    for r in reports:
        by_model[f"{r.model_name}:{r.model_version}" if r.model_name else "(files)"].append(r)
    figures = []
    for label, items in sorted(by_model.items()):
        items.sort(key=lambda r: r.time)
        if len(items) < 2:
            continue
        series = {"share drifted": [r.summary.get("share_drifted") for r in items]}
        for key in sorted({k for r in items for k in r.summary if k.startswith("estimated_")}):
            series[key] = [r.summary.get(key) for r in items]
        figures.append(
            _line_figure(f"{label}: drift over time", [r.time for r in items], series, "value")
        )
    if figures:
        sections.append(Section("Over time", figures=figures))
    return Page("Monitoring", "/monitoring", summary=[("reports", len(reports))], sections=sections)


def alerts(project: Project) -> Page:
    """The alert history, newest first."""
    items = project.store.alerts.list(project.name, limit=EVENT_PAGE_SIZE)
    rows = [
        [
            _time(a.time),
            a.rule,
            a.severity,
            a.metric,
            a.value,
            a.threshold,
            a.message,
            ", ".join(a.channels),
        ]
        for a in items
    ]
    return Page(
        "Alerts",
        "/alerts",
        summary=[("alerts", len(items))],
        sections=[
            Section(
                "Alert history",
                text="" if items else "No alert has fired.",
                tables=[
                    Table(
                        [
                            "time",
                            "rule",
                            "severity",
                            "metric",
                            "value",
                            "threshold",
                            "message",
                            "channels",
                        ],
                        rows,
                        row_status=["fail" if a.severity == "critical" else "warn" for a in items],
                    )
                ]
                if items
                else [],
            )
        ],
    )


def _audit_section(title: str, events: list[Any]) -> Section:
    rows = [
        [
            _time(e.time),
            e.actor,
            e.action,
            e.target,
            e.reason,
            ", ".join(f"{k}={v}" for k, v in e.details.items() if v not in (None, [], ""))[:300],
        ]
        for e in events
    ]
    return Section(
        title, tables=[Table(["time", "actor", "action", "target", "reason", "details"], rows)]
    )


def audit(project: Project) -> Page:
    """The newest audit events (who changed what, when and why), oldest first."""
    events = project.store.audit.list(limit=EVENT_PAGE_SIZE)
    return Page(
        "Audit log",
        "/audit",
        summary=[("events shown", len(events))],
        sections=[_audit_section("Events", events)],
    )
