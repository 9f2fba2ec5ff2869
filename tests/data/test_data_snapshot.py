"""Snapshots: canonical Parquet bytes and content hashes that depend only on the data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loopml.data import content_hash, read_snapshot, read_table, to_snapshot_bytes
from loopml.errors import DataError, NotFoundError


def test_identical_data_gives_identical_bytes_whatever_the_index(churn: pd.DataFrame) -> None:
    shuffled_index = churn.set_index(churn.index * 7 + 3)
    assert to_snapshot_bytes(churn) == to_snapshot_bytes(shuffled_index)
    assert to_snapshot_bytes(churn) == to_snapshot_bytes(churn.copy())


def test_hash_is_the_same_for_csv_parquet_and_object_strings(
    tmp_path: Path, churn: pd.DataFrame
) -> None:
    churn.to_csv(tmp_path / "c.csv", index=False)
    churn.to_parquet(tmp_path / "c.parquet")
    from_csv = read_table(tmp_path / "c.csv")
    from_parquet = read_table(tmp_path / "c.parquet")
    assert content_hash(from_csv) == content_hash(from_parquet) == content_hash(churn)
    assert churn["churn"].dtype == object and from_csv["churn"].dtype != object


def test_hash_changes_with_values_order_and_names(churn: pd.DataFrame) -> None:
    base = content_hash(churn)
    changed = churn.copy()
    changed["tenure"] = changed["tenure"] + np.eye(1, len(changed), dtype=int)[0]
    assert content_hash(changed) != base
    assert content_hash(churn.iloc[::-1]) != base
    assert content_hash(churn[churn.columns[::-1]]) != base
    assert content_hash(churn.rename(columns={"tenure": "months"})) != base


def test_snapshot_round_trips_values_and_dtypes(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "n": pd.array([1, None, 3], dtype="Int64"),
            "flag": pd.array([True, None, False], dtype="boolean"),
            "x": [0.5, None, 2.0],
            "cat": pd.Categorical(["a", "b", "a"]),
            "when": pd.to_datetime(["2013-01-01T10:00:00Z"] * 3),
            "s": ["é", None, "z"],
        },
        index=[10, 11, 12],
    )
    data = to_snapshot_bytes(frame)
    path = tmp_path / "snap.parquet"
    path.write_bytes(data)
    for source in (data, path, str(path)):
        back = read_snapshot(source)
        assert list(back.index) == [0, 1, 2]
        pd.testing.assert_frame_equal(back, frame.reset_index(drop=True), check_dtype=False)
        assert str(back["n"].dtype) == "Int64" and str(back["flag"].dtype) == "boolean"
        assert isinstance(back["cat"].dtype, pd.CategoricalDtype)
        assert str(back["when"].dt.tz) == "UTC"


def test_snapshot_refuses_what_cannot_be_stored(tmp_path: Path) -> None:
    mixed = pd.DataFrame({"a": [1, "two", 3.0]}, dtype=object)
    with pytest.raises(DataError, match="Column 'a' mixes value types"):
        to_snapshot_bytes(mixed)
    duplicated = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(DataError, match="duplicated column names: a"):
        content_hash(duplicated)
    with pytest.raises(NotFoundError):
        read_snapshot(tmp_path / "missing.parquet")
    with pytest.raises(DataError, match="not a Parquet snapshot"):
        read_snapshot(b"definitely not parquet")
