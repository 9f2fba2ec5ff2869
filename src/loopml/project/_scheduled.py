"""Monitoring on a schedule inside the serving process (APScheduler, started with the app)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from loopml.errors import LoopmlError
from loopml.project._monitor import monitor
from loopml.project._project import Project

logger = logging.getLogger(__name__)


def prediction_log_monitor(root: Path, *, window: str | None) -> Callable[[], None]:
    """A job that monitors the champion's prediction log (the most recent ``window``, or all of
    it), with alerts; each run opens its own store connection. A window with nothing to check
    (no traffic yet) is logged and skipped, never raised into the scheduler."""

    def run() -> None:
        try:
            with Project.open(root) as project:
                outcome = monitor(project, window=window)
            summary = outcome.report.to_dict()
            logger.info(
                "scheduled monitor: %.0f%% of features drifted; report %s",
                100 * summary["share_drifted"],
                outcome.report_html,
            )
        except LoopmlError as exc:
            logger.warning("scheduled monitor skipped: %s", exc.message)

    return run


def attach_schedule(app: FastAPI, job: Callable[[], None], trigger: Any) -> None:
    """Run ``job`` on ``trigger`` (an APScheduler trigger) in a background thread for as long as
    ``app`` is serving: started after the app's own startup, stopped before its shutdown. One run
    at a time; runs missed while one is going are merged into the next."""
    from apscheduler.schedulers.background import BackgroundScheduler

    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: FastAPI) -> AsyncIterator[Any]:
        scheduler = BackgroundScheduler(timezone="UTC")
        scheduler.add_job(job, trigger, max_instances=1, coalesce=True)
        async with inner(application) as state:
            scheduler.start()
            try:
                yield state
            finally:
                scheduler.shutdown(wait=True)

    app.router.lifespan_context = lifespan
