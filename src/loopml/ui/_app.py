"""The web UI's FastAPI app: server-rendered pages over one project's store.

Read-only: it shows data versions, runs (with the search language), models with their gates,
approvals, audit trail and reports, deployments, monitoring over time, alerts and the audit log.
plotly.js is served once from ``/static/plotly.js`` with a long cache lifetime.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from loopml import __version__
from loopml.errors import LoopmlError
from loopml.project import Project
from loopml.reports import plotly_js
from loopml.ui import _views as views
from loopml.ui._page import Page


def build_ui(project: Project) -> FastAPI:
    """The UI app for ``project`` (which must stay open while the app serves)."""
    app = FastAPI(
        title=f"loopml UI · {project.name}",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    script = str(plotly_js()).encode("utf-8")
    etag = '"' + hashlib.sha256(script).hexdigest()[:16] + '"'

    def page(view: Callable[[], Page]) -> HTMLResponse:
        return HTMLResponse(view().render(project.name))

    @app.exception_handler(LoopmlError)
    async def _loopml_error(_request: Request, exc: LoopmlError) -> HTMLResponse:
        body = Page("Not found" if exc.http_status == 404 else "Error", "", error=str(exc))
        return HTMLResponse(body.render(project.name), status_code=exc.http_status)

    @app.get("/health")
    def health() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @app.get("/static/plotly.js")
    def plotly(request: Request) -> Response:
        headers = {"Cache-Control": "public, max-age=86400", "ETag": etag}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        return Response(script, media_type="text/javascript", headers=headers)

    @app.get("/", response_class=HTMLResponse)
    def overview() -> HTMLResponse:
        return page(lambda: views.overview(project))

    @app.get("/data", response_class=HTMLResponse)
    def data() -> HTMLResponse:
        return page(lambda: views.datasets(project))

    @app.get("/runs", response_class=HTMLResponse)
    def runs(q: str = "", order: str = "") -> HTMLResponse:
        return page(lambda: views.runs(project, q, order))

    @app.get("/runs/{run_id}", response_class=HTMLResponse)
    def run(run_id: str) -> HTMLResponse:
        return page(lambda: views.run_detail(project, run_id))

    @app.get("/models", response_class=HTMLResponse)
    def models() -> HTMLResponse:
        return page(lambda: views.models(project))

    @app.get("/models/{name}/{version}", response_class=HTMLResponse)
    def model(name: str, version: int) -> HTMLResponse:
        return page(lambda: views.model_detail(project, name, version))

    @app.get("/reports/{name}/{version}/{filename}")
    def report(name: str, version: int, filename: str) -> FileResponse:
        return FileResponse(views.report_path(project, name, version, filename))

    @app.get("/deployments", response_class=HTMLResponse)
    def deployments() -> HTMLResponse:
        return page(lambda: views.deployments(project))

    @app.get("/monitoring", response_class=HTMLResponse)
    def monitoring() -> HTMLResponse:
        return page(lambda: views.monitoring(project))

    @app.get("/alerts", response_class=HTMLResponse)
    def alerts() -> HTMLResponse:
        return page(lambda: views.alerts(project))

    @app.get("/audit", response_class=HTMLResponse)
    def audit() -> HTMLResponse:
        return page(lambda: views.audit(project))

    return app
