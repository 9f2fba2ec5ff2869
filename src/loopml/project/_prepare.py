"""Shared steps before fitting or scoring: contract enforcement, the holdout split, and the
charter's cleaning of the training rows."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sklearn.pipeline import Pipeline

from loopml.data import DataContract, SplitResult, ValidationReport, enforce, split_frame, validate
from loopml.data._clean import (
    CleaningReport,
    CleaningTransformer,
    CoerceErrors,
    clean_frame,
    plan_cleaning,
)
from loopml.project._project import Project
from loopml.tracking import ActiveRun
from loopml.train import TrainingResult

CLEANING_ARTIFACT = "cleaning.json"
"""Run artifact holding what the charter's cleaning changed on the training rows."""


@dataclass
class PreparedData:
    """Rows that passed the contract, cut into train and holdout."""

    train: pd.DataFrame
    holdout: pd.DataFrame
    split: dict[str, Any]
    validation: ValidationReport
    quarantine_path: str | None
    cleaning: CleaningReport | None = None
    cleaner: CleaningTransformer | None = None
    raw_train: pd.DataFrame | None = None
    """The training rows before cleaning changed values (rows dropped by cleaning excluded):
    what production inputs look like, hence the monitoring reference."""

    @property
    def reference_rows(self) -> pd.DataFrame:
        return self.train if self.raw_train is None else self.raw_train


def check_against_contract(
    project: Project, frame: pd.DataFrame, contract: DataContract, *, label: str
) -> tuple[pd.DataFrame, ValidationReport, str | None]:
    """Validate ``frame`` and apply the charter's policy (fail, warn or quarantine).

    Quarantined rows are written with their reasons to ``.loopml/quarantine/`` before the good
    rows go on, so no row is silently dropped.

    Raises:
        DataError: the policy is ``fail`` and the data breaks the contract.
    """
    report = validate(frame, contract, require_target=True)
    policy = project.charter.validation
    kept = enforce(report, policy, frame)
    quarantine_path = None
    if policy == "quarantine" and not report.ok and len(kept) < len(frame):
        project.paths.quarantine.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        path = project.paths.quarantine / f"{label}-{stamp}.csv"
        report.quarantine(frame).to_csv(path, index=False)
        quarantine_path = str(path)
    return kept, report, quarantine_path


def split_holdout(project: Project, frame: pd.DataFrame, contract: DataContract) -> SplitResult:
    """Cut ``frame`` per the charter's split policy."""
    charter = project.charter
    time_column = charter.time_column
    if time_column is None and contract.time_column is not None:
        time_column = contract.time_column.name
    return split_frame(
        frame,
        strategy=charter.split_strategy,  # type: ignore[arg-type]
        test_size=charter.split.test_size,
        target=charter.target,
        time_column=time_column,
        group_column=charter.split.group_column,
        seed=charter.split.seed,
    )


def prepare(
    project: Project, frame: pd.DataFrame, contract: DataContract, *, label: str
) -> PreparedData:
    """Enforce the contract on ``frame`` and split it into train and holdout."""
    kept, report, quarantine_path = check_against_contract(project, frame, contract, label=label)
    kept = kept.reset_index(drop=True)
    cut = split_holdout(project, kept, contract)
    return PreparedData(
        train=kept.iloc[cut.train_index].reset_index(drop=True),
        holdout=kept.iloc[cut.test_index].reset_index(drop=True),
        split=cut.describe(),
        validation=report,
        quarantine_path=quarantine_path,
    )


def clean_training(project: Project, prepared: PreparedData) -> PreparedData:
    """``prepared`` with the charter's cleaning run on its training rows (the holdout is left as
    it comes, like data to score). Unchanged when the charter declares no cleaning.

    Raises:
        DataError: a column named by the cleaning section is missing, a value cannot be coerced
            under the ``fail`` validation policy, or cleaning drops every row.
    """
    plan = plan_cleaning(project.charter.cleaning, project.contract(), prepared.train)
    if plan.empty:
        return prepared
    errors: CoerceErrors = "raise" if project.charter.validation == "fail" else "null"
    train = prepared.train.reset_index(drop=True)
    cleaned, report, cleaner = clean_frame(train, plan, errors=errors)
    return dataclasses.replace(
        prepared,
        train=cleaned.reset_index(drop=True),
        cleaning=report,
        cleaner=cleaner,
        raw_train=train.loc[cleaned.index].reset_index(drop=True),
    )


def with_cleaner(pipeline: Any, cleaner: CleaningTransformer) -> Pipeline:
    """A new pipeline running the fitted ``cleaner`` before the fitted ``pipeline``'s steps (a
    pipeline's steps are spliced in, so its ``preprocess`` and final ``model`` steps keep their
    names and places; ``pipeline`` itself is not changed)."""
    steps = list(pipeline.steps) if isinstance(pipeline, Pipeline) else [("model", pipeline)]
    return Pipeline([("clean", cleaner), *steps])


def attach_cleaning(run: ActiveRun, result: TrainingResult, prepared: PreparedData) -> None:
    """Record what cleaning changed with ``run`` and make every fitted candidate replay it.

    Logs the totals as metrics (``cleaning_rows_dropped``, ``cleaning_cells_filled``,
    ``cleaning_values_capped``, ``cleaning_coercion_failures``), the declared steps as the
    ``cleaning`` param, and the full report (per column: bounds, fill values, counts) as the
    ``cleaning.json`` artifact. Each candidate's pipeline gets the fitted cleaner prepended, so
    the holdout, batch scoring and serving see the values the model was trained on.
    """
    if prepared.cleaning is None:
        return
    report = prepared.cleaning.to_dict()
    run.log_metrics({f"cleaning_{k}": float(v) for k, v in prepared.cleaning.totals().items()})
    run.log_params({"cleaning": json.dumps([s["step"] for s in report["steps"]])})
    if prepared.cleaner is not None:
        learned = {
            "bounds": prepared.cleaner.bounds_,
            "fill_values": prepared.cleaner.fill_values_,
        }
        report["learned"] = learned
        for candidate in result.candidates:
            if candidate.bundle is not None:
                candidate.bundle.pipeline = with_cleaner(
                    candidate.bundle.pipeline, prepared.cleaner
                )
    run.log_artifact(CLEANING_ARTIFACT, json.dumps(report, default=str, indent=2).encode())
