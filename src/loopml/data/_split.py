"""Train/test splits that can be stored and reproduced exactly.

A split is a pure function of the frame and the parameters in :meth:`SplitResult.describe`
(strategy, test size, seed, columns, gap), so storing that description is enough to recreate it;
``test_index_sha256`` lets a later run check it got the same rows.
"""

from __future__ import annotations

import hashlib
import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupShuffleSplit, train_test_split

from loopml.data._infer import parse_datetimes
from loopml.errors import DataError, InvalidInputError

Strategy = Literal["random", "stratified", "time", "group"]
STRATEGIES: tuple[str, ...] = ("random", "stratified", "time", "group")


@dataclass(frozen=True)
class SplitResult:
    """Positional row indexes (sorted) of the training and test parts, and how they were made."""

    strategy: str
    train_index: np.ndarray
    test_index: np.ndarray
    test_size: float
    seed: int
    params: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        """A JSON-able description: the parameters to reproduce the split, sizes, boundaries."""
        digest = hashlib.sha256(np.ascontiguousarray(self.test_index, dtype="<i8").tobytes())
        return {
            "strategy": self.strategy,
            "test_size": self.test_size,
            "seed": self.seed,
            "n_train": len(self.train_index),
            "n_test": len(self.test_index),
            **self.params,
            "test_index_sha256": digest.hexdigest(),
        }


def _column(df: pd.DataFrame, name: str | None, argument: str, strategy: str) -> pd.Series:
    if name is None:
        raise InvalidInputError(
            f"The {strategy!r} split needs {argument}=.",
            hint=f"Pass the column to split on as {argument}=.",
        )
    if name not in df.columns:
        raise DataError(
            f"The {argument.replace('_', ' ')} {name!r} is not in the data.",
            hint=f"Columns: {', '.join(map(str, df.columns))}.",
        )
    return df[name]


def _sizes(n_rows: int, test_size: float) -> int:
    if isinstance(test_size, bool) or not isinstance(test_size, (int, float)):
        raise InvalidInputError(f"test_size must be a number between 0 and 1; got {test_size!r}.")
    if not 0.0 < float(test_size) < 1.0:
        raise InvalidInputError(
            f"test_size must be strictly between 0 and 1; got {test_size!r}.",
            hint="Use a share such as 0.2.",
        )
    n_test = math.ceil(test_size * n_rows)
    if n_rows < 2 or n_test >= n_rows:
        raise DataError(
            f"Cannot split {n_rows} row(s) with test_size={test_size}: both parts need rows.",
            hint="Use more data or a smaller test_size.",
        )
    return n_test


def split_frame(
    df: pd.DataFrame,
    *,
    strategy: Strategy,
    test_size: float,
    target: str | None = None,
    time_column: str | None = None,
    group_column: str | None = None,
    seed: int = 0,
    gap: int = 0,
) -> SplitResult:
    """Split the rows of ``df`` into training and test parts.

    * ``random`` — shuffled with ``seed``.
    * ``stratified`` — keeps the class shares of ``target``; falls back to ``random`` with a
      warning when a class has fewer than 2 rows or the test part is smaller than the classes.
    * ``time`` — rows sorted by ``time_column``; the latest ``test_size`` share is the test part,
      ties at the boundary go to test so training rows are strictly earlier; ``gap`` more rows
      before the boundary are left out of training.
    * ``group`` — whole groups of ``group_column`` go to one side (about ``test_size`` of rows).

    Raises:
        InvalidInputError: unknown strategy, ``test_size`` not in (0, 1), a needed column
            argument missing, or ``gap`` negative or given for a strategy other than ``time``.
        DataError: a named column is not in the data, too few rows or groups to split, or
            missing/unparseable times.
    """
    if strategy not in STRATEGIES:
        raise InvalidInputError(
            f"Unknown split strategy {strategy!r}.", hint=f"Use one of {', '.join(STRATEGIES)}."
        )
    if gap < 0 or (gap and strategy != "time"):
        raise InvalidInputError(
            f"gap={gap} is not valid here: it must be >= 0 and only applies to time splits."
        )
    n_test = _sizes(len(df), test_size)
    positions = np.arange(len(df))
    params: dict[str, Any] = {}
    if strategy == "time":
        train, test, params = _time_split(df, time_column, n_test, gap)
    elif strategy == "group":
        groups = _column(df, group_column, "group_column", strategy)
        train, test = _group_split(groups, test_size, seed)
        params = {"group_column": group_column, "n_test_groups": int(groups.iloc[test].nunique())}
    else:
        stratify = None
        if strategy == "stratified":
            labels = _column(df, target, "target", strategy)
            stratify = _stratify_labels(labels, n_test)
            params = {"target": target, "stratified": stratify is not None}
        train, test = train_test_split(
            positions, test_size=n_test, random_state=seed, shuffle=True, stratify=stratify
        )
    return SplitResult(
        strategy=strategy,
        train_index=np.sort(np.asarray(train, dtype=np.int64)),
        test_index=np.sort(np.asarray(test, dtype=np.int64)),
        test_size=float(test_size),
        seed=seed,
        params=params,
    )


def _stratify_labels(labels: pd.Series, n_test: int) -> np.ndarray | None:
    """Labels to stratify on (missing values form their own class), or None to fall back."""
    values = labels.astype(object).where(labels.notna(), "<missing>").astype(str).to_numpy()
    counts = pd.Series(values).value_counts()
    if counts.min() < 2 or n_test < len(counts) or len(values) - n_test < len(counts):
        warnings.warn(
            f"Cannot stratify on {labels.name!r} (a class has fewer than 2 rows, or a part is "
            "smaller than the number of classes); falling back to a random split.",
            UserWarning,
            stacklevel=3,
        )
        return None
    return values


def _group_split(groups: pd.Series, test_size: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    keys = groups.astype(object).where(groups.notna(), "<missing>").astype(str).to_numpy()
    if len(set(keys)) < 2:
        raise DataError(
            f"The group column {groups.name!r} has fewer than 2 groups, so it cannot be split.",
            hint="Choose a column with several groups, or another strategy.",
        )
    splitter = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
    train, test = next(splitter.split(np.zeros(len(keys)), groups=keys))
    return train, test


def _time_split(
    df: pd.DataFrame, time_column: str | None, n_test: int, gap: int
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    column = _column(df, time_column, "time_column", "time")
    times = column
    if not (pd.api.types.is_datetime64_any_dtype(column) or pd.api.types.is_numeric_dtype(column)):
        times = parse_datetimes(column)
    n_missing = int(times.isna().sum())
    if n_missing:
        raise DataError(
            f"The time column {time_column!r} has {n_missing} missing or unreadable value(s).",
            hint="Fill or drop those rows before a time split.",
        )
    order = np.argsort(times.to_numpy(), kind="stable")
    sorted_times = times.iloc[order]
    boundary = sorted_times.iloc[len(df) - n_test]
    is_test = (sorted_times >= boundary).to_numpy()
    n_train = int((~is_test).sum()) - gap
    if n_train <= 0:
        raise DataError(
            f"No rows are earlier than the time boundary {boundary} (with gap={gap}).",
            hint="Use a smaller test_size or gap, or data covering a longer period.",
        )
    params = {
        "time_column": time_column,
        "gap": gap,
        "train_end": _jsonable_time(sorted_times.iloc[n_train - 1]),
        "test_start": _jsonable_time(boundary),
    }
    return order[:n_train], order[is_test], params


def _jsonable_time(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value.item() if isinstance(value, np.generic) else value
