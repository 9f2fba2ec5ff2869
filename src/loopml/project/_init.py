"""``loopml init``: infer a charter and a data contract from a data file and create the project."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from loopml.charter import Charter, ColumnsSpec, DataSource, SplitSpec, write_charter
from loopml.data import infer_contract, infer_task, read_table
from loopml.errors import AlreadyExistsError, InvalidInputError
from loopml.project._project import Project, ProjectPaths

_POSITIVE_WORDS = ("yes", "true", "1", "y", "positive", "pos")


def init_project(
    root: str | Path,
    *,
    data: str | Path,
    target: str | None = None,
    name: str | None = None,
    task: str | None = None,
    sensitive: Sequence[str] = (),
    ignore: Sequence[str] = (),
    time_column: str | None = None,
    metric: str | None = None,
    time_budget: float | None = None,
    force: bool = False,
) -> Project:
    """Create a project in ``root`` for predicting ``target`` from the file ``data``.

    A ``clustering`` or ``anomaly`` ``task`` needs no target; for anomaly detection a target,
    if given, marks known anomalies and is used only to evaluate.

    Reads the data once to infer the task, the positive class, the column roles and the
    contract; writes ``loopml.yaml`` (commented, for people to edit), ``contract.yaml`` and the
    ``.loopml/`` state folder with an empty store.

    Raises:
        AlreadyExistsError: ``root`` already holds a charter and ``force`` is False.
        DataError: the file cannot be read, or the target is missing or has one value.
        InvalidInputError: a sensitive/ignored column is not in the data, the name is invalid,
            or there is no target and ``task`` is not clustering or anomaly.
    """
    unsupervised = task in ("clustering", "anomaly")
    if target is None and not unsupervised:
        raise InvalidInputError(
            "No target column was given.",
            hint="Pass --target COLUMN to predict it, or --task clustering / --task anomaly "
            "for data without one.",
        )
    paths = ProjectPaths(Path(root).resolve())
    if paths.charter.exists() and not force:
        raise AlreadyExistsError(
            f"{paths.charter} already exists.",
            hint="Edit it, or run `loopml init --force` to replace it.",
        )
    data_path = Path(data).expanduser().resolve()
    frame = read_table(data_path)
    _check_columns(frame, "--sensitive", sensitive)
    _check_columns(frame, "--ignore", ignore)
    contract = infer_contract(
        frame, target=target, sensitive=sensitive, ignore=ignore, time_column=time_column
    )
    chosen_task = task or infer_task(frame[str(target)])
    time_spec = contract.time_column
    charter = Charter(
        name=_model_name(name or data_path.stem),
        problem=_problem(chosen_task, target, data_path.name),
        task=chosen_task,  # type: ignore[arg-type]
        target=target,
        positive_class=_positive_class(frame[str(target)]) if chosen_task == "binary" else None,
        data=DataSource(path=_relative(data_path, paths.root)),
        metric=metric,
        split=SplitSpec(strategy="time" if time_spec else None),
        columns=ColumnsSpec(
            sensitive=list(sensitive),
            ignore=list(ignore),
            id=[c.name for c in contract.columns if c.role == "id"],
            time=time_spec.name if time_spec else None,
        ),
    )
    if time_budget is not None:
        charter.training.time_budget = time_budget
    paths.state.mkdir(parents=True, exist_ok=True)
    write_charter(charter, paths.charter)
    contract.to_yaml(paths.contract)
    return Project.open(paths.root)


def _problem(task: str, target: str | None, file_name: str) -> str:
    if task == "clustering":
        return f"Group the rows of {file_name} into clusters of similar rows."
    if task == "anomaly":
        return f"Flag the unusual rows of {file_name}."
    return f"Predict {target!r} from the other columns of {file_name}."


def _check_columns(frame: pd.DataFrame, option: str, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidInputError(
            f"{option} names column(s) the data does not have: {', '.join(missing)}.",
            hint=f"Columns are: {', '.join(map(str, frame.columns))}.",
        )


def _model_name(text: str) -> str:
    """A registry-safe model name from ``text`` (letters, digits, ``_ . -``)."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-._")
    if not name:
        raise InvalidInputError(
            f"{text!r} cannot be turned into a model name.", hint="Pass --name NAME."
        )
    return name


def _positive_class(target: pd.Series) -> Any:
    """The class of interest: a 'yes'-like label when there is one, else the minority class."""
    counts = target.dropna().value_counts()
    for label in counts.index:
        if str(label).strip().lower() in _POSITIVE_WORDS:
            return _plain(label)
    return _plain(counts.index[-1])


def _plain(value: Any) -> Any:
    """numpy scalars as Python values, so the charter holds plain YAML."""
    return value.item() if hasattr(value, "item") else value


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
