"""Commands of the modeling loop: init, ingest, validate, train, evaluate, predict, retrain."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from loopml.cli._common import (
    JsonOption,
    ProjectOption,
    console,
    handle_errors,
    print_json,
    progress_bar,
    say,
)
from loopml.errors import DataError, InvalidInputError


def _split_list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


@handle_errors
def init_command(
    data: Annotated[
        Path, typer.Option("--data", "-d", help="CSV/Parquet/JSON file to learn from.")
    ],
    target: Annotated[
        str | None,
        typer.Option(
            "--target",
            "-t",
            help="Column to predict (optional for clustering; for anomaly it marks known "
            "anomalies, used only to evaluate).",
        ),
    ] = None,
    name: Annotated[str | None, typer.Option(help="Model name (default: the file's stem).")] = None,
    task: Annotated[
        str | None,
        typer.Option(
            help="binary, multiclass, regression (default: inferred from the target), "
            "clustering or anomaly."
        ),
    ] = None,
    sensitive: Annotated[
        str | None, typer.Option(help="Comma-separated sensitive attributes to audit.")
    ] = None,
    ignore: Annotated[str | None, typer.Option(help="Comma-separated columns to ignore.")] = None,
    time_column: Annotated[
        str | None, typer.Option(help="Column that orders rows in time.")
    ] = None,
    metric: Annotated[str | None, typer.Option(help="Primary metric (default per task).")] = None,
    time_budget: Annotated[
        float | None, typer.Option(help="Training time budget, seconds.")
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing loopml.yaml.")] = False,
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """Create a project: infer loopml.yaml and contract.yaml from a data file."""
    from loopml.project import init_project

    with init_project(
        project,
        data=data,
        target=target,
        name=name,
        task=task,
        sensitive=_split_list(sensitive),
        ignore=_split_list(ignore),
        time_column=time_column,
        metric=metric,
        time_budget=time_budget,
        force=force,
    ) as opened:
        charter = opened.charter
        if json:
            print_json(
                {
                    "project": str(opened.paths.root),
                    "name": charter.name,
                    "task": charter.task,
                    "target": charter.target,
                    "positive_class": charter.positive_class,
                    "charter": str(opened.paths.charter),
                    "contract": str(opened.paths.contract),
                }
            )
            return
        say(f"Created project [bold]{charter.name}[/] in {opened.paths.root}")
        say(
            f"  task: {charter.task}, target: {charter.target!r}"
            + (f", positive class: {charter.positive_class!r}" if charter.task == "binary" else "")
        )
        say(f"  charter: {opened.paths.charter}  (edit it, then run `loopml train`)")
        say(f"  contract: {opened.paths.contract}")


@handle_errors
def ingest_command(
    data: Annotated[
        Path | None, typer.Option("--data", "-d", help="File to ingest (default: the charter's).")
    ] = None,
    append: Annotated[
        Path | None,
        typer.Option(help="File of new rows to add to the newest version (same columns)."),
    ] = None,
    sql: Annotated[
        str | None, typer.Option("--sql", help="SQLAlchemy database URL to read from.")
    ] = None,
    query: Annotated[str | None, typer.Option(help="SELECT statement (with --sql).")] = None,
    table: Annotated[str | None, typer.Option(help="Table name (with --sql).")] = None,
    duckdb: Annotated[
        str | None,
        typer.Option(
            "--duckdb",
            help="DuckDB query over files, e.g. \"SELECT * FROM read_parquet('data/*.parquet')\" "
            "(relative paths from the current directory).",
        ),
    ] = None,
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """Snapshot the data as a new, content-hashed dataset version (or append a batch to it)."""
    if data is not None and append is not None:
        raise InvalidInputError(
            "Give --data or --append, not both.",
            hint="--append FILE adds FILE's rows to the newest dataset version.",
        )
    if (query is not None or table is not None) and sql is None:
        raise InvalidInputError(
            "--query and --table need --sql URL.",
            hint="For example --sql sqlite:///shop.db --table orders.",
        )
    if sql is not None and (query is None) == (table is None):
        raise InvalidInputError(
            "--sql needs exactly one of --query and --table.",
            hint="For example --sql sqlite:///shop.db --query 'SELECT * FROM orders'.",
        )
    if duckdb is not None and (data is not None or append is not None or sql is not None):
        raise InvalidInputError(
            "--duckdb is a source of its own: drop --data, --append and --sql.",
            hint="Read several files with one query, e.g. FROM read_csv('batches/*.csv').",
        )
    from loopml.project import Project, ingest

    with Project.open(project) as opened:
        before = {v.id for v in opened.store.datasets.list(opened.name)}
        version = ingest(
            opened,
            append if append is not None else data,
            append=append is not None,
            url=sql,
            query=query,
            table=table,
            duckdb=duckdb,
        )
        is_new = version.id not in before
        if json:
            print_json(
                {
                    "dataset": version.id,
                    "new": is_new,
                    "rows": version.n_rows,
                    "columns": version.n_columns,
                    "source": version.source,
                }
            )
            return
        state = "new" if is_new else "unchanged (same content as before)"
        say(
            f"Dataset version [bold]{version.id}[/]: {version.n_rows} rows x "
            f"{version.n_columns} columns, {state}"
        )


@handle_errors
def validate_command(
    data: Annotated[Path | None, typer.Option("--data", "-d", help="File to check.")] = None,
    version: Annotated[str | None, typer.Option(help="Dataset version id to check.")] = None,
    chunked: Annotated[
        bool | None,
        typer.Option(
            "--chunked/--in-memory",
            help="Check the CSV/Parquet file a batch of rows at a time, in bounded memory "
            "(default: when the file is over a quarter of the available memory).",
            show_default=False,
        ),
    ] = None,
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """Check data against the project's data contract."""
    from loopml.project import Project, validate_data

    with Project.open(project) as opened, progress_bar("Validating", quiet=json) as update:
        outcome = validate_data(opened, data, version_id=version, chunked=chunked, progress=update)
    report = outcome.report
    if json:
        print_json(outcome.to_dict())
    elif report.ok:
        say(f"[green]OK[/]: {outcome.data} ({report.n_rows} rows) meets the data contract.")
    else:
        table = Table("column", "check", "rows", "message", title=f"Violations in {outcome.data}")
        for violation in report.violations:
            table.add_row(
                violation.column or "", violation.check, str(violation.count), violation.message
            )
        console.print(table)
    if not json:
        for warning in report.warnings:
            say(f"[yellow]warning:[/] {warning.message}")
        if outcome.quarantine_path:
            say(
                f"Quarantined {len(report.bad_rows)} of {report.n_rows} rows, with the reason "
                f"for each: {outcome.quarantine_path}"
            )
    if not report.ok and outcome.policy == "fail":
        raise DataError(
            f"{outcome.data} breaks the data contract in {len(report.violations)} way(s).",
            hint="Fix the data, or edit contract.yaml if the contract is too strict.",
        )


@handle_errors
def train_command(
    time_budget: Annotated[
        float | None, typer.Option(help="Seconds for the whole search (default: the charter's).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (default: the charter's).")] = None,
    dataset: Annotated[str | None, typer.Option(help="Dataset version (default: newest).")] = None,
    trials: Annotated[
        str | None,
        typer.Option(
            help="Tuning trials: N per tuned family, or FAMILY=N,… as a run reported them "
            "(replays that search exactly; default: the charter's, else as time allows)."
        ),
    ] = None,
    mitigate: Annotated[
        bool,
        typer.Option(
            "--mitigate",
            help="Also fit a fairness-mitigated candidate (Fairlearn ThresholdOptimizer) and "
            "compare it with the best model on the holdout; it is not registered. Binary tasks "
            "with sensitive columns only.",
        ),
    ] = False,
    fairness_constraint: Annotated[
        str,
        typer.Option(
            help="The constraint of --mitigate: demographic_parity or equalized_odds.",
        ),
    ] = "demographic_parity",
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """Train baselines and candidates, evaluate on the holdout, register the best model."""
    from loopml.project import Project, train
    from loopml.train import parse_trials

    counts = parse_trials(trials)
    with Project.open(project) as opened, progress_bar("Training", quiet=json) as update:
        outcome = train(
            opened,
            time_budget=time_budget,
            seed=seed,
            dataset_id=dataset,
            progress=update,
            trials=counts,
            mitigate=fairness_constraint if mitigate else None,
        )
    if json:
        print_json(outcome.to_dict())
        return
    table = Table(
        "family",
        f"cv {outcome.metric}",
        "± std",
        "fit s",
        "status",
        title="Leaderboard (cross-validation on the training split)",
    )
    for row in outcome.leaderboard:
        table.add_row(
            str(row.get("family")),
            _fmt(row.get("cv_mean")),
            _fmt(row.get("cv_std")),
            _fmt(row.get("fit_seconds"), 1),
            _status_text(row),
        )
    console.print(table)
    tuned = {r["family"]: r["trials"] for r in outcome.leaderboard if r.get("trials")}
    if tuned:
        replay = ",".join(f"{family}={n}" for family, n in tuned.items())
        say(f"Tuning trials: {replay} (replay this search with --trials {replay})")
    metrics = ", ".join(f"{k} {_fmt(v)}" for k, v in outcome.metrics.items())
    say(f"Registered [bold]{outcome.model.ref}[/] (run {outcome.run_id[:8]}); holdout: {metrics}")
    for gate in outcome.gates:
        mark = "[green]pass[/]" if gate.passed else "[red]FAIL[/]"
        say(f"  gate {gate.name}: {mark} — {gate.message}")
    say(outcome.decision)
    if outcome.mitigation is not None:
        mit = outcome.mitigation
        say(
            f"Fairness mitigation ({mit['constraint']}, ThresholdOptimizer over "
            f"{', '.join(mit['sensitive_columns'])}) on the same holdout; the mitigated candidate "
            f"is NOT registered, {outcome.model.ref} is:"
        )
        for name in (
            "accuracy",
            "roc_auc",
            "demographic_parity_difference",
            "equalized_odds_difference",
        ):
            before, after = mit["original"][name], mit["mitigated"][name]
            say(f"  {name}: original {_fmt(before)} -> mitigated {_fmt(after)}")
    say(f"Report: {outcome.report_html}")


def _status_text(row: dict[str, object]) -> str:
    """``ok``, or the reason a candidate was skipped or failed (which already names the status)."""
    status, reason = str(row.get("status", "")), str(row.get("reason") or "")
    if not reason:
        return status
    return reason if reason.startswith(status) else f"{status}: {reason}"


def _fmt(value: object, digits: int = 4) -> str:
    return (
        f"{value:.{digits}f}" if isinstance(value, float) else ("" if value is None else str(value))
    )


@handle_errors
def evaluate_command(
    model: Annotated[
        str | None, typer.Argument(help="NAME, NAME:VERSION or NAME@ALIAS (default: newest).")
    ] = None,
    data: Annotated[
        Path | None, typer.Option("--data", "-d", help="Labelled file to score.")
    ] = None,
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """Evaluate a model version and write its HTML + JSON report."""
    from loopml.project import Project, evaluate

    with Project.open(project) as opened:
        outcome = evaluate(opened, model, data=data)
    if json:
        print_json(outcome.to_dict())
        return
    table = Table("metric", "value", "95% interval", title=f"{outcome.model.ref} on {outcome.data}")
    for name, value in outcome.report.metrics.items():
        low_high = outcome.report.intervals.get(name)
        interval = f"{low_high[0]:.4f} to {low_high[1]:.4f}" if low_high else ""
        table.add_row(name, _fmt(value), interval)
    console.print(table)
    say(f"Champion: {'yes' if outcome.champion else 'no'}")
    say(f"Report: {outcome.report_html}")


@handle_errors
def predict_command(
    model: Annotated[str, typer.Option("--model", "-m", help="NAME@ALIAS or NAME:VERSION.")],
    input: Annotated[
        Path | None, typer.Option("--input", "-i", help="CSV or Parquet to score.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="CSV or Parquet to write.")
    ] = None,
    sql: Annotated[
        str | None, typer.Option("--sql", help="Database URL for --query and --output-table.")
    ] = None,
    query: Annotated[
        str | None, typer.Option("--query", help="SELECT whose rows to score (with --sql).")
    ] = None,
    output_table: Annotated[
        str | None,
        typer.Option("--output-table", help="Table to append the scores to (with --sql)."),
    ] = None,
    on_invalid: Annotated[
        str | None,
        typer.Option(
            help="Rows breaking the contract: quarantine (set aside), warn (score and count) "
            "or fail (default: the charter's validation policy)."
        ),
    ] = None,
    chunk_rows: Annotated[int, typer.Option(help="Rows per chunk (bounds memory).")] = 100_000,
    keep: Annotated[
        str | None,
        typer.Option(
            help="Input columns to copy into the output, comma-separated, e.g. customer_id "
            "(default: all; '' for none, only the model's outputs)."
        ),
    ] = None,
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """Batch-score a file or a query: adds prediction and probability_<class> columns."""
    from loopml.project import Project, predict

    scored = 0

    def on_chunk(rows: int) -> None:
        nonlocal scored
        scored += rows
        update(f"{scored:,} rows", 0.0)

    with (
        Project.open(project) as opened,
        progress_bar("Scoring", quiet=json, known_total=False) as update,
    ):
        outcome = predict(
            opened,
            model,
            input,
            output,
            sql=sql,
            query=query,
            output_table=output_table,
            on_invalid=on_invalid,  # type: ignore[arg-type]
            chunk_rows=chunk_rows,
            progress=on_chunk,
            keep=None if keep is None else [c.strip() for c in keep.split(",") if c.strip()],
        )
    if json:
        print_json(outcome.to_dict())
        return
    say(
        f"Scored {outcome.n_rows} rows with {outcome.model.ref} in {outcome.seconds:.2f} s "
        f"-> {outcome.output}"
    )
    if outcome.n_quarantined:
        say(
            f"Quarantined {outcome.n_quarantined} rows breaking the contract "
            f"-> {outcome.quarantine}"
        )


@handle_errors
def retrain_command(
    data: Annotated[
        Path | None,
        typer.Option(
            "--data", "-d", help="Newer labelled data (default: the charter's source, read again)."
        ),
    ] = None,
    from_feedback: Annotated[
        bool,
        typer.Option(
            help="Use the logged predictions that received ground truth (POST /v1/feedback) "
            "as the newer data."
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option(help="Explain what would happen; change nothing.")
    ] = False,
    time_budget: Annotated[
        float | None, typer.Option(help="Training time budget, seconds.")
    ] = None,
    auto: Annotated[
        bool,
        typer.Option(
            help="For cron: retrain only if a charter trigger fires (schedule, drift, "
            "performance); exit 0 either way and say what was done."
        ),
    ] = False,
    project: ProjectOption = Path("."),
    json: JsonOption = False,
) -> None:
    """Train a challenger on newer data; promote it only if it beats the champion."""
    if auto:
        if data is not None or from_feedback:
            raise InvalidInputError(
                "--auto picks the newer data itself; drop --data and --from-feedback.",
                hint="Feedback joined to the prediction log when any arrived, else the source.",
            )
        _retrain_auto(project, time_budget, json, dry_run)
        return
    from loopml.project import Project, retrain

    with Project.open(project) as opened, progress_bar("Retraining", quiet=json) as update:
        outcome = retrain(
            opened,
            data,
            dry_run=dry_run,
            time_budget=time_budget,
            progress=update,
            from_feedback=from_feedback,
        )
    if json:
        print_json(outcome.to_dict())
        return
    if outcome.dry_run:
        say("Dry run — the retraining job would:")
        for step in outcome.plan:
            say(f"  • {step}")
        return
    assert outcome.challenger is not None and outcome.decision is not None
    verdict = "[green]promoted[/]" if outcome.decision.promote else "[yellow]not promoted[/]"
    say(f"Challenger {outcome.challenger.model.ref}: {verdict} — {outcome.decision.reason}.")
    say(f"Champion is now {outcome.champion_after}.")
    say(f"Report: {outcome.challenger.report_html}")


def _retrain_auto(project: Path, time_budget: float | None, json: bool, dry_run: bool) -> None:
    from loopml.project import Project
    from loopml.project._auto_retrain import retrain_if_triggered

    with Project.open(project) as opened:
        outcome = retrain_if_triggered(opened, time_budget=time_budget, dry_run=dry_run)
    if json:
        print_json(outcome.to_dict())
    else:
        say(outcome.message[:1].upper() + outcome.message[1:] + ".")
