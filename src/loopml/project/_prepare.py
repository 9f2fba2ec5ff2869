"""Shared steps before fitting or scoring: contract enforcement and the holdout split."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from loopml.data import DataContract, SplitResult, ValidationReport, enforce, split_frame, validate
from loopml.project._project import Project


@dataclass
class PreparedData:
    """Rows that passed the contract, cut into train and holdout."""

    train: pd.DataFrame
    holdout: pd.DataFrame
    split: dict[str, Any]
    validation: ValidationReport
    quarantine_path: str | None


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
