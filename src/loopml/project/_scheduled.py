"""Monitoring on a schedule inside the serving process (APScheduler, started with the app),
followed by the automatic retraining check when the charter asks for it."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from loopml.errors import LoopmlError
from loopml.project._auto_retrain import AutoRetrainOutcome, retrain_if_triggered
from loopml.project._monitor import monitor
from loopml.project._project import Project

logger = logging.getLogger(__name__)


class AutomaticRetraining:
    """The retraining check that follows a scheduled monitor run when the charter sets
    ``retraining.automatic``: :func:`retrain_if_triggered` on the project at ``root``, in a
    background thread (``background=False``: in the caller's), one at a time in this process and
    under the project's retraining lock across processes. Failures are logged, never raised."""

    def __init__(self, root: Path, *, background: bool = True) -> None:
        self.root, self.background = root, background
        self.thread: threading.Thread | None = None
        self.last: AutoRetrainOutcome | None = None

    def check(self) -> None:
        """Start the check (or run it, without ``background``) unless one is still running."""
        if self.thread is not None and self.thread.is_alive():
            logger.info("automatic retraining: the previous job is still running")
            return
        if not self.background:
            self._run()
            return
        self.thread = threading.Thread(target=self._run, name="loopml-retrain", daemon=False)
        self.thread.start()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the check started last, if any."""
        if self.thread is not None:
            self.thread.join(timeout)

    def _run(self) -> None:
        try:
            with Project.open(self.root) as project:
                self.last = retrain_if_triggered(project)
            logger.info("automatic retraining: %s", self.last.message)
        except LoopmlError as exc:
            logger.error("automatic retraining failed: %s", exc.message)
        except Exception:  # a background thread has no caller to raise to
            logger.exception("automatic retraining failed")


class ScheduledMonitor:
    """A job that monitors the champion's prediction log (the most recent ``window``, or all of
    it), with alerts; each run opens its own store connection. A window with nothing to check
    (no traffic yet) is logged and skipped, never raised into the scheduler. When the charter
    sets ``retraining.automatic``, each successful run is followed by the retraining check
    (:class:`AutomaticRetraining`; :meth:`join` waits for it)."""

    def __init__(self, root: Path, *, window: str | None, background: bool = True) -> None:
        self.root, self.window = root, window
        self.retraining = AutomaticRetraining(root, background=background)

    def __call__(self) -> None:
        try:
            with Project.open(self.root) as project:
                outcome = monitor(project, window=self.window)
                automatic = project.charter.retraining.automatic
            summary = outcome.report.to_dict()
            logger.info(
                "scheduled monitor: %.0f%% of features drifted; report %s",
                100 * summary["share_drifted"],
                outcome.report_html,
            )
        except LoopmlError as exc:
            logger.warning("scheduled monitor skipped: %s", exc.message)
            return
        if automatic:
            self.retraining.check()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the retraining check started by the last run, if any."""
        self.retraining.join(timeout)


def prediction_log_monitor(
    root: Path, *, window: str | None, background: bool = True
) -> ScheduledMonitor:
    """The scheduled monitor job of the project at ``root`` (see :class:`ScheduledMonitor`)."""
    return ScheduledMonitor(root, window=window, background=background)


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
