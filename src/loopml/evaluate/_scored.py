"""Labels and predictions as aligned numpy arrays: the common input of metrics, curves and CIs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from loopml.errors import InvalidInputError
from loopml.train._bundle import Task, probability_column

SUPPORTED_TASKS: tuple[str, ...] = ("binary", "multiclass", "regression")


@dataclass(frozen=True)
class Scored:
    """Aligned arrays for one evaluation.

    Classification: ``y`` and ``pred`` are class indices into ``classes``; ``proba`` has one column
    per class; ``positive`` is the index of the positive class (binary). Regression: ``y`` and
    ``pred`` are floats and ``proba`` is ``None``.
    """

    task: Task
    y: np.ndarray
    pred: np.ndarray
    proba: np.ndarray | None
    classes: tuple[Any, ...]
    positive: int = 1

    @property
    def n_rows(self) -> int:
        return int(self.y.shape[0])

    @property
    def positive_score(self) -> np.ndarray:
        """Probability of the positive class (binary only)."""
        assert self.proba is not None
        return self.proba[:, self.positive]

    @property
    def is_positive(self) -> np.ndarray:
        """Boolean array: the row's true label is the positive class (binary only)."""
        return self.y == self.positive


def encode_labels(values: Any, classes: Sequence[Any], what: str) -> np.ndarray:
    """Indices of ``values`` in ``classes`` (matching on text if the types differ).

    Raises:
        InvalidInputError: some values are not among ``classes`` (the message lists a few).
    """
    items = pd.Index(np.asarray(values, dtype=object), dtype=object)
    codes = pd.Index(list(classes), dtype=object).get_indexer(items)
    if (codes < 0).any():
        as_text = pd.Index([str(c) for c in classes], dtype=object)
        codes = np.where(codes < 0, as_text.get_indexer(items.astype(str)), codes)
    unknown = items[codes < 0].astype(str).unique().tolist()
    if unknown:
        raise InvalidInputError(
            f"The {what} contain {len(unknown)} label(s) the model does not know: "
            f"{', '.join(map(repr, unknown[:5]))}.",
            hint=f"Known classes: {', '.join(map(str, classes))}; drop or relabel those rows.",
        )
    return codes.astype(np.int64)


def _numbers(y_true: Any) -> np.ndarray:
    """Regression labels as floats, missing values (None, NaN, pd.NA) as NaN."""
    try:
        return (
            pd.Series(np.asarray(y_true, dtype=object))
            .astype("Float64")
            .to_numpy(dtype=float, na_value=np.nan)
        )
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            "The labels of a regression model must be numbers.",
            hint="Check that the target column holds numeric values.",
        ) from exc


def _finite(values: np.ndarray, name: str) -> np.ndarray:
    out = np.asarray(values, dtype=float)
    if not np.isfinite(out).all():
        raise InvalidInputError(
            f"The predictions' {name!r} column has {int((~np.isfinite(out)).sum())} missing "
            "or infinite value(s).",
            hint="Check the model: it must return a finite prediction for every row.",
        )
    return out


def _column(predictions: pd.DataFrame, name: str) -> np.ndarray:
    if name not in predictions.columns:
        raise InvalidInputError(
            f"The predictions have no {name!r} column.",
            hint="Pass the output of ModelBundle.predict_frame for the same rows.",
        )
    return predictions[name].to_numpy()


def score_arrays(
    task: Task,
    y_true: Any,
    predictions: pd.DataFrame,
    *,
    classes: Sequence[Any] = (),
    positive_class: Any = None,
) -> Scored:
    """Validate and align labels with ``ModelBundle.predict_frame`` output.

    ``positive_class`` defaults to the last class (scikit-learn's convention) for binary tasks.

    Raises:
        InvalidInputError: unsupported task, no rows, lengths differ, missing prediction columns,
            missing or unknown labels, or fewer than two classes for classification.
    """
    if task not in SUPPORTED_TASKS:
        raise InvalidInputError(
            f"Cannot compute metrics for task {task!r}.",
            hint=f"Supported tasks: {', '.join(SUPPORTED_TASKS)}.",
        )
    y_raw = _numbers(y_true) if task == "regression" else np.asarray(y_true, dtype=object)
    if y_raw.shape[0] == 0:
        raise InvalidInputError("There are no rows to evaluate.", hint="Pass a non-empty holdout.")
    if y_raw.shape[0] != len(predictions):
        raise InvalidInputError(
            f"There are {y_raw.shape[0]} labels but {len(predictions)} predictions.",
            hint="Score exactly the rows whose labels you pass.",
        )
    if pd.isna(y_raw).any():
        raise InvalidInputError(
            f"{int(pd.isna(y_raw).sum())} label(s) are missing.",
            hint="Drop rows without a label before evaluating.",
        )
    if task == "regression":
        pred = _finite(_column(predictions, "prediction"), "prediction")
        return Scored(task, y_raw, pred, None, ())
    return _classification_arrays(task, y_raw, predictions, tuple(classes), positive_class)


def _classification_arrays(
    task: Task,
    y_raw: np.ndarray,
    predictions: pd.DataFrame,
    classes: tuple[Any, ...],
    positive: Any,
) -> Scored:
    if len(classes) < 2 or (task == "binary" and len(classes) != 2):
        raise InvalidInputError(
            f"A {task} model needs {'two' if task == 'binary' else 'at least two'} classes; "
            f"got {len(classes)}.",
            hint="Pass the classes of the model (ModelBundle.classes).",
        )
    y = encode_labels(y_raw, classes, "labels")
    pred = encode_labels(_column(predictions, "prediction"), classes, "predictions")
    proba = np.column_stack(
        [
            _finite(_column(predictions, probability_column(c)), probability_column(c))
            for c in classes
        ]
    )
    positive_index = 1
    if task == "binary" and positive is not None:
        positive_index = int(encode_labels([positive], classes, "positive class")[0])
    return Scored(task, y, pred, proba, classes, positive_index)
