"""Splits: random, stratified, time and group, reproducible from their description."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from loopml.data import SplitResult, split_frame
from loopml.errors import DataError, InvalidInputError


def _partition(result: SplitResult, n_rows: int) -> None:
    both = np.concatenate([result.train_index, result.test_index])
    assert sorted(both.tolist()) == list(range(n_rows))


def test_random_split_is_reproducible_from_its_description(churn: pd.DataFrame) -> None:
    result = split_frame(churn, strategy="random", test_size=0.2, seed=7)
    _partition(result, len(churn))
    described = result.describe()
    json.dumps(described)
    assert described["n_test"] == 1409 and described["n_train"] == 5634
    again = split_frame(churn, strategy="random", test_size=0.2, seed=described["seed"])
    assert again.describe()["test_index_sha256"] == described["test_index_sha256"]
    other = split_frame(churn, strategy="random", test_size=0.2, seed=8)
    assert other.describe()["test_index_sha256"] != described["test_index_sha256"]


def test_stratified_split_keeps_class_shares(churn: pd.DataFrame) -> None:
    result = split_frame(churn, strategy="stratified", test_size=0.25, target="churn", seed=1)
    _partition(result, len(churn))
    overall = (churn["churn"] == "Yes").mean()
    test_share = (churn["churn"].iloc[result.test_index] == "Yes").mean()
    assert abs(test_share - overall) < 0.002
    assert result.describe()["stratified"] is True


def test_stratified_falls_back_to_random_when_a_class_is_tiny() -> None:
    frame = pd.DataFrame({"y": ["a"] * 10 + ["b"] * 9 + ["rare"], "x": range(20)})
    with pytest.warns(UserWarning, match="falling back to a random split"):
        result = split_frame(frame, strategy="stratified", test_size=0.25, target="y")
    _partition(result, 20)
    assert result.describe()["stratified"] is False


def test_time_split_puts_the_latest_rows_in_test(flights: pd.DataFrame) -> None:
    shuffled = flights.sample(frac=1.0, random_state=3).reset_index(drop=True)
    result = split_frame(shuffled, strategy="time", test_size=0.2, time_column="time_hour")
    _partition(result, len(shuffled))
    times = pd.to_datetime(shuffled["time_hour"])
    assert times.iloc[result.train_index].max() < times.iloc[result.test_index].min()
    assert len(result.test_index) >= 1000  # ties at the boundary go to test
    described = result.describe()
    assert described["test_start"] == times.iloc[result.test_index].min().isoformat()
    assert described["train_end"] == times.iloc[result.train_index].max().isoformat()


def test_time_split_gap_and_numeric_times() -> None:
    frame = pd.DataFrame({"t": [5, 1, 4, 2, 3, 6, 8, 7, 9, 10]})
    result = split_frame(frame, strategy="time", test_size=0.3, time_column="t", gap=2)
    assert sorted(frame["t"].iloc[result.test_index]) == [8, 9, 10]
    assert sorted(frame["t"].iloc[result.train_index]) == [1, 2, 3, 4, 5]
    assert result.describe()["train_end"] == 5 and result.describe()["test_start"] == 8


def test_group_split_keeps_groups_together(flights: pd.DataFrame) -> None:
    result = split_frame(flights, strategy="group", test_size=0.3, group_column="carrier", seed=2)
    _partition(result, len(flights))
    train_groups = set(flights["carrier"].iloc[result.train_index])
    test_groups = set(flights["carrier"].iloc[result.test_index])
    assert train_groups and test_groups and not train_groups & test_groups
    assert result.describe()["n_test_groups"] == len(test_groups)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"strategy": "random", "test_size": 0.0}, InvalidInputError, "strictly between 0 and 1"),
        ({"strategy": "random", "test_size": 1.5}, InvalidInputError, "strictly between 0 and 1"),
        ({"strategy": "random", "test_size": "20%"}, InvalidInputError, "must be a number"),
        ({"strategy": "shuffle", "test_size": 0.2}, InvalidInputError, "Unknown split strategy"),
        ({"strategy": "stratified", "test_size": 0.2}, InvalidInputError, "needs target="),
        ({"strategy": "time", "test_size": 0.2}, InvalidInputError, "needs time_column="),
        ({"strategy": "group", "test_size": 0.2}, InvalidInputError, "needs group_column="),
        ({"strategy": "random", "test_size": 0.2, "gap": 3}, InvalidInputError, "gap=3"),
        (
            {"strategy": "stratified", "test_size": 0.2, "target": "churn"},
            DataError,
            "target 'churn' is not in the data",
        ),
        (
            {"strategy": "time", "test_size": 0.2, "time_column": "when", "gap": 8},
            DataError,
            "No rows are earlier",
        ),
        (
            {"strategy": "group", "test_size": 0.2, "group_column": "same"},
            DataError,
            "fewer than 2 groups",
        ),
    ],
)
def test_invalid_splits(kwargs: dict[str, object], error: type[Exception], message: str) -> None:
    frame = pd.DataFrame(
        {"when": pd.date_range("2024-01-01", periods=10), "same": ["g"] * 10, "y": [0, 1] * 5}
    )
    with pytest.raises(error, match=message):
        split_frame(frame, **kwargs)  # type: ignore[arg-type]


def test_too_few_rows_and_missing_times() -> None:
    with pytest.raises(DataError, match="Cannot split 1 row"):
        split_frame(pd.DataFrame({"x": [1]}), strategy="random", test_size=0.5)
    frame = pd.DataFrame({"t": ["2024-01-01", None, "2024-01-03", "2024-01-04"]})
    with pytest.raises(DataError, match="1 missing or unreadable"):
        split_frame(frame, strategy="time", test_size=0.25, time_column="t")
