"""``loopml monitor``: drift, performance and alerts for a window, once or on a cron schedule."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from loopml.cli._common import JsonOption, ProjectOption, console, handle_errors, print_json, say

if TYPE_CHECKING:
    from loopml.project import MonitorOutcome

logger = logging.getLogger("loopml.monitor")
TIME_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M"]


def run_on_schedule(job: Callable[[], None], trigger: Any, *, max_runs: int | None = None) -> int:
    """Run ``job`` in the foreground at every fire time of ``trigger`` until interrupted (or
    ``max_runs`` runs); a run that fails is logged and the schedule goes on. Returns the number
    of runs."""
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = BlockingScheduler(timezone="UTC")
    runs = 0

    def finished(event: JobExecutionEvent) -> None:
        nonlocal runs
        runs += 1
        if event.exception is not None:
            logger.error("scheduled monitor run failed: %s", event.exception)
        if max_runs is not None and runs >= max_runs:
            scheduler.shutdown(wait=False)

    scheduler.add_listener(finished, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    scheduler.add_job(job, trigger, max_instances=1, coalesce=True, misfire_grace_time=None)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        scheduler.shutdown(wait=False)
    return runs


@handle_errors
def monitor_command(
    current: Annotated[
        Path | None,
        typer.Option(
            "--current",
            "-c",
            help="File with the current window (default: the model's prediction log).",
        ),
    ] = None,
    reference: Annotated[
        Path | None,
        typer.Option(
            "--reference", "-r", help="File to compare with (default: the model's training data)."
        ),
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Model to monitor (default: the champion).")
    ] = None,
    last: Annotated[int | None, typer.Option(help="Only the last N logged predictions.")] = None,
    since: Annotated[
        datetime | None,
        typer.Option(formats=TIME_FORMATS, help="Predictions logged at or after this UTC time."),
    ] = None,
    until: Annotated[
        datetime | None,
        typer.Option(formats=TIME_FORMATS, help="Predictions logged before this UTC time."),
    ] = None,
    window: Annotated[
        str | None,
        typer.Option(help="The most recent window: 15m, 1h, 1d, 1w (ending at --until or now)."),
    ] = None,
    schedule: Annotated[
        str | None,
        typer.Option(
            help="Cron expression (UTC): keep running in the foreground, e.g. '*/15 * * * *'."
        ),
    ] = None,
    max_runs: Annotated[
        int | None, typer.Option(help="With --schedule: stop after this many runs.", min=1)
    ] = None,
    alerts: Annotated[
        bool, typer.Option(help="Evaluate the charter's alert rules on the report.")
    ] = True,
    output: Annotated[
        Path | None, typer.Option(help="Folder for the report (ad-hoc mode).")
    ] = None,
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """Drift, data quality, performance (realized and estimated) and alerts: reference vs
    current window. With --schedule, repeat on a cron schedule (or run it from cron)."""
    from loopml.project import Project, monitor, monitor_files
    from loopml.project._scheduled import AutomaticRetraining

    has_project = (project / "loopml.yaml").is_file()
    retraining = AutomaticRetraining(project) if schedule is not None and has_project else None

    def once() -> None:
        if reference is not None and current is not None and not has_project:
            outcome = monitor_files(reference, current, output or Path("loopml-monitor"))
        else:
            with Project.open(project) as opened:
                outcome = monitor(
                    opened,
                    ref=model,
                    current=current,
                    reference=reference,
                    last=last,
                    since=since,
                    until=until,
                    window=window,
                    alerts=alerts,
                )
                automatic = opened.charter.retraining.automatic
            if retraining is not None and automatic:
                retraining.check()  # in the background; the schedule goes on
        _show(outcome, json)

    if schedule is None:
        once()
        return
    from loopml.retrain import cron_trigger

    trigger = cron_trigger(schedule)
    if not json:
        say(f"Monitoring on schedule '{schedule}' (UTC); Ctrl+C to stop.")
    run_on_schedule(once, trigger, max_runs=max_runs)
    if retraining is not None:
        retraining.join()
        if retraining.last is not None and not json:
            say(f"Automatic retraining: {retraining.last.message}")


def _show(outcome: MonitorOutcome, json: bool) -> None:
    data = outcome.to_dict()
    if json:
        print_json(data)
        return
    table = Table(
        "column",
        "test",
        "statistic",
        "threshold",
        "drifted",
        title=f"Drift: {data.get('model') or 'reference'} vs current",
    )
    features = sorted(data["features"].items(), key=lambda item: not item[1]["drifted"])
    for column, result in features:
        drifted = "[red]yes[/]" if result["drifted"] else "no"
        table.add_row(
            column,
            result["test"],
            f"{result['statistic']:.4f}",
            f"{result['threshold']:.4f}",
            drifted,
        )
    console.print(table)
    verdict = "[red]DRIFT[/]" if data["dataset_drift"] else "[green]no dataset drift[/]"
    say(f"{verdict}: {data['share_drifted']:.0%} of features drifted.")
    multivariate = data.get("multivariate")
    if multivariate:
        flag = "[red]drifted[/]" if multivariate["drifted"] else "no drift"
        say(f"Multivariate: domain-classifier AUC {multivariate['statistic']:.3f} ({flag}).")
    for kind in ("estimated", "realized"):
        metrics = (data.get("performance") or {}).get(kind)
        if metrics:
            shown = ", ".join(f"{k} {v:.4f}" for k, v in list(metrics.items())[:4])
            say(f"Performance ({kind}): {shown}")
    for alert in data.get("alerts", []):
        state = "suppressed (cooldown)" if alert["suppressed"] else "sent"
        say(f"[yellow]ALERT[/] [{alert['severity']}] {alert['message']} — {state}")
    say(f"Report: {outcome.report_html}")
