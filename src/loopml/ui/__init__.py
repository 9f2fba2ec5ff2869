"""The web UI (``loopml ui``): server-rendered pages with Plotly charts over a project's store.

from loopml.project import Project
from loopml.ui import build_ui

app = build_ui(Project.open("."))   # a FastAPI app; serve it with uvicorn
"""

from loopml.ui._app import build_ui
from loopml.ui._page import Page

__all__ = ["Page", "build_ui"]
