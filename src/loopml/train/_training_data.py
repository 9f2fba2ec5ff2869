"""Turning a frame and its contract into model inputs, an encoded target and CV folds."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold, StratifiedKFold, TimeSeriesSplit

from loopml.data._contract import DataContract
from loopml.errors import DataError, InvalidInputError
from loopml.train._metrics import TrainTask

CvStrategy = Literal["stratified", "kfold", "time"]
Fold = tuple[np.ndarray, np.ndarray]


@dataclass
class TrainingData:
    """Model inputs and the target, encoded ``0..k-1`` for classification (see ``classes``)."""

    X: pd.DataFrame
    y: np.ndarray
    classes: list[Any] = field(default_factory=list)
    positive_class: Any = None
    positive_index: int = 1
    dropped_target_rows: int = 0
    warnings: list[str] = field(default_factory=list)
    time_order: np.ndarray | None = None
    """Row positions sorted by the contract's time column (None when it has none)."""
    X_unlabelled: pd.DataFrame | None = None
    """Model inputs of the rows without a target, kept for self-training (None: dropped)."""


def prepare_training_data(
    frame: pd.DataFrame,
    contract: DataContract,
    task: TrainTask,
    positive_class: Any = None,
    *,
    keep_unlabelled: bool = False,
) -> TrainingData:
    """Check ``frame`` against ``contract``, set aside rows without a target, encode the target.

    Rows without a target are dropped, or with ``keep_unlabelled`` (classification only) kept
    in ``X_unlabelled`` for self-training.

    Raises:
        InvalidInputError: the contract has no target, or ``task`` does not fit the target.
        DataError: columns are missing, no rows are left, the target has one class or is not
            numeric for regression.
    """
    target = _target_name(contract, frame)
    features = contract.feature_names
    if not features:
        raise DataError(
            "The data contract has no feature columns, so there is nothing to learn from.",
            hint="Give at least one column other than the target the role 'feature'.",
        )
    missing = [c for c in features if c not in frame.columns]
    if missing:
        raise DataError(
            f"The training data is missing {len(missing)} feature column(s): {', '.join(missing)}.",
            hint="Train on data with the columns of the contract, or update the contract.",
        )
    has_target = frame[target].notna().to_numpy()
    dropped = int((~has_target).sum())
    if not has_target.any():
        raise DataError(f"Every row has a missing target {target!r}; there is nothing to learn.")
    X = frame.loc[has_target, features].reset_index(drop=True)
    values = frame.loc[has_target, target].reset_index(drop=True)
    notes = [f"Dropped {dropped} row(s) with a missing target {target!r}."] if dropped else []
    unlabelled = None
    if keep_unlabelled and task != "regression" and dropped:
        unlabelled = frame.loc[~has_target, features].reset_index(drop=True)
        notes = [f"Kept {dropped} row(s) with a missing target {target!r} for self-training."]
        dropped = 0
    elif keep_unlabelled and dropped:
        notes.append("Self-training applies to classification only; those rows were dropped.")
    order = _time_order(frame.loc[has_target], contract)
    if task == "regression":
        y = _numeric_target(values, target)
        return TrainingData(X, y, [], None, 1, dropped, notes, order)
    classes = _classes(values, target, task)
    y = pd.Categorical(values, categories=classes).codes.astype(np.int64)
    positive = _positive_class(classes, y, positive_class) if task == "binary" else None
    index = classes.index(positive) if task == "binary" else 1
    return TrainingData(X, y, classes, positive, index, dropped, notes, order, unlabelled)


def _time_order(rows: pd.DataFrame, contract: DataContract) -> np.ndarray | None:
    spec = contract.time_column
    if spec is None or spec.name not in rows.columns:
        return None
    column = rows[spec.name].reset_index(drop=True)
    if not pd.api.types.is_numeric_dtype(column):
        with warnings.catch_warnings():  # format inference falls back to per-element parsing
            warnings.simplefilter("ignore", UserWarning)
            column = pd.to_datetime(column, errors="coerce", utc=True)
    return column.sort_values(kind="stable", na_position="last").index.to_numpy()


def _target_name(contract: DataContract, frame: pd.DataFrame) -> str:
    if contract.target is None:
        raise InvalidInputError(
            "The data contract names no target column, so there is nothing to predict.",
            hint="Set 'target' in the contract (or the charter) to the column to predict.",
        )
    if contract.target not in frame.columns:
        raise DataError(
            f"The training data has no target column {contract.target!r}.",
            hint="Check the file, or set the contract's target to a column that exists.",
        )
    return contract.target


def _numeric_target(values: pd.Series, target: str) -> np.ndarray:
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    bad = values[numbers.isna() | np.isinf(numbers)]
    if len(bad):
        examples = ", ".join(repr(v) for v in bad.astype(str).unique()[:3])
        raise DataError(
            f"The regression target {target!r} has {len(bad)} value(s) that are not finite "
            f"numbers (e.g. {examples}).",
            hint="Clean the column, or train a classification task if it is a label.",
        )
    return numbers.to_numpy()


def _python_value(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _classes(values: pd.Series, target: str, task: TrainTask) -> list[Any]:
    unique = [_python_value(v) for v in pd.unique(values)]
    try:
        classes = sorted(unique)
    except TypeError:  # mixed types (e.g. 1 and "a"): order by their text
        classes = sorted(unique, key=str)
    if len(classes) < 2:
        raise DataError(
            f"The target {target!r} has only one class ({classes[0]}); a classifier needs at "
            "least two.",
            hint="Check the target column, or collect rows of the other class(es).",
        )
    if task == "binary" and len(classes) > 2:
        raise InvalidInputError(
            f"The task is binary but the target {target!r} has {len(classes)} classes.",
            hint="Use the multiclass task, or map the target to two values.",
        )
    if task == "multiclass" and len(classes) == 2:
        raise InvalidInputError(
            f"The task is multiclass but the target {target!r} has only two classes.",
            hint="Use the binary task.",
        )
    return classes


def _positive_class(classes: list[Any], y: np.ndarray, given: Any) -> Any:
    """``given`` matched to a class (also by its text), or the minority class by default."""
    if given is None:
        counts = np.bincount(y, minlength=2)
        return classes[0] if counts[0] < counts[1] else classes[1]
    for candidate in classes:
        if candidate == given or str(candidate) == str(given):
            return candidate
    raise InvalidInputError(
        f"The positive class {given!r} is not one of the target's classes.",
        hint=f"Classes: {', '.join(map(str, classes))}.",
    )


def make_folds(
    data: TrainingData,
    task: TrainTask,
    *,
    strategy: CvStrategy | None,
    n_folds: int,
    seed: int,
) -> tuple[list[Fold], list[str]]:
    """Cross-validation folds (train and validation row positions) and any warnings.

    ``strategy`` defaults to stratified for classification and kfold for regression. ``time``
    validates on later rows, ordered by the contract's time column (or the row order). Folds
    are reduced (with a warning) when a class or the data has too few rows.

    Raises:
        InvalidInputError: fewer than 2 folds, or stratified folds for regression.
        DataError: a class or the whole data has fewer than 2 rows.
    """
    if n_folds < 2:
        raise InvalidInputError(f"cv_folds must be at least 2; got {n_folds}.")
    classification = task != "regression"
    strategy = strategy or ("stratified" if classification else "kfold")
    if strategy == "stratified" and not classification:
        raise InvalidInputError(
            "Stratified folds need class labels; the task is regression.",
            hint="Use cv_strategy='kfold' or 'time'.",
        )
    limit, what = _fold_limit(data, classification)
    if limit < 2:
        raise DataError(f"{what} has only {limit} row; cross-validation needs at least 2.")
    if strategy == "time":  # each split validates on later rows, so n rows allow n - 1 splits
        limit, what = len(data.y) - 1, "The training data"
    folds = min(n_folds, limit)
    if folds < 2:
        raise DataError(
            f"The training data has only {len(data.y)} rows; time-ordered cross-validation needs "
            "at least 3."
        )
    notes: list[str] = []
    if folds < n_folds:
        notes.append(
            f"Reduced cross-validation from {n_folds} to {folds} folds: {what} has too few rows."
        )
    positions = np.arange(len(data.y))
    if strategy == "time":
        ordered = positions if data.time_order is None else data.time_order
        if data.time_order is None:
            notes.append(
                "Time-ordered folds follow the row order: the contract has no time column."
            )
        splits = TimeSeriesSplit(n_splits=folds).split(ordered)
        return [(ordered[tr], ordered[va]) for tr, va in splits], notes
    if strategy == "stratified":
        splitter: Any = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    else:
        splitter = KFold(n_splits=folds, shuffle=True, random_state=seed)
    return list(splitter.split(positions, data.y)), notes


def _fold_limit(data: TrainingData, classification: bool) -> tuple[int, str]:
    """The most folds the data allows, and what limits it (for messages)."""
    if classification:
        counts = np.bincount(data.y, minlength=len(data.classes))
        rarest = int(counts.argmin())
        return int(counts[rarest]), f"The class {data.classes[rarest]!r}"
    return len(data.y), "The training data"
