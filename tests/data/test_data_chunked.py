"""Big files in bounded memory: the chunked profile and validation give the in-memory results."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from loopml.data import ColumnSpec, DataContract, profile_frame, read_table, validate
from loopml.data._profile import profile_columns
from loopml.data._scan import ParquetColumns, needs_chunking
from loopml.data._validate_chunked import validate_columns, write_quarantine


def _frame(n: int = 3000) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    normal = rng.normal(0, 1, n)
    normal[rng.random(n) < 0.1] = np.nan
    counts = rng.poisson(3, n).astype("float64")  # ties
    counts[: n // 2][rng.random(n // 2) < 0.05] = np.nan  # missing only in the first half
    frame = pd.DataFrame(
        {
            "x": normal,
            "y": 2 * np.nan_to_num(normal) + rng.normal(0, 0.5, n),
            "count": counts,
            "plan": rng.choice(np.array(["a", "b", "c", None], dtype=object), n),
            "flag": rng.choice([True, False], n),
            "day": pd.date_range("2024-01-01", periods=n, freq="h").astype(str),
            "target": rng.choice(["yes", "no"], n),
        }
    )
    return pd.concat([frame, frame.iloc[:25]], ignore_index=True)  # 25 duplicate rows


def _same(a: Any, b: Any, path: str = "") -> None:
    if isinstance(a, dict):
        assert set(a) == set(b), path
        for key in a:
            _same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-12, abs=1e-12), (
            path
        )
    else:
        assert a == b, path


@pytest.mark.parametrize("suffix", ["parquet", "csv"])
def test_the_chunked_profile_equals_the_in_memory_one(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"table.{suffix}"
    frame = _frame()
    if suffix == "parquet":
        frame.to_parquet(path, row_group_size=700)
    else:
        frame.to_csv(path, index=False)
    whole = profile_frame(read_table(path), target="target").to_dict()
    steps: list[str] = []
    with ParquetColumns(path, batch_rows=256) as table:
        chunked = profile_columns(
            table, target="target", progress=lambda step, _f: steps.append(step)
        ).to_dict()
    # In-memory size is an estimate: pandas' and Arrow's string buffers differ by a few bytes.
    sizes = [result.pop("memory_bytes") for result in (whole, chunked)]
    assert sizes[1] == pytest.approx(sizes[0], rel=0.5 if suffix == "csv" else 1e-3)
    for result in (whole, chunked):
        result.pop("generated_at")
    assert whole["duplicates"] == 25 and whole["missing"]["rows_with_missing"] > 0
    _same(whole, chunked)
    assert "correlations" in steps and steps[-1] == "done"


def _contract() -> DataContract:
    return DataContract(
        columns=[
            ColumnSpec(name="id", dtype="integer", role="id", unique=True),
            ColumnSpec(name="amount", dtype="float", min=0, max=100, max_null_share=0.01),
            ColumnSpec(name="plan", dtype="category", categories=["a", "b"]),
            ColumnSpec(name="qty", dtype="integer", role="feature"),
            ColumnSpec(name="target", dtype="category", role="target"),
        ],
        target="target",
    )


def _bad_frame(n: int = 1000) -> pd.DataFrame:
    rng = np.random.default_rng(2)
    ids = np.arange(n)
    ids[[300, 950]] = [5, 7]  # repeats far from their first occurrence
    amount = rng.uniform(0, 100, n)
    amount[[10, 520, 990]] = [-1, 250, 101]
    amount[rng.random(n) < 0.03] = np.nan
    qty = rng.integers(0, 5, n).astype(object)
    qty[[42, 777]] = ["many", "2.5"]
    return pd.DataFrame(
        {
            "id": ids,
            "amount": amount,
            "plan": rng.choice(["a", "b", "z"], n, p=[0.49, 0.5, 0.01]),
            "qty": qty.astype(str),
            "target": rng.choice(["yes", "no"], n),
        }
    )


def test_chunked_validation_equals_the_whole_and_quarantines_every_bad_row(
    tmp_path: Path,
) -> None:
    path = tmp_path / "batch.parquet"
    frame = _bad_frame()
    frame.to_parquet(path, row_group_size=333)
    whole = validate(pd.read_parquet(path), _contract())
    with ParquetColumns(path, batch_rows=128) as table:
        chunked = validate_columns(table, _contract())
        written = write_quarantine(table, chunked, tmp_path / "quarantine.csv")
    assert not whole.ok and {v.check for v in whole.violations} >= {
        "unique",
        "in_range",
        "allowed_categories",
        "dtype",
        "max_null_share",
    }
    assert chunked.to_dict() == whole.to_dict()
    assert chunked.row_reasons == whole.row_reasons
    assert chunked.bad_rows.tolist() == whole.bad_rows.tolist()
    quarantined = pd.read_csv(tmp_path / "quarantine.csv")
    expected = whole.quarantine(frame)
    assert written == len(quarantined) == len(expected)
    assert quarantined["_loopml_reason"].tolist() == expected["_loopml_reason"].tolist()
    assert quarantined["id"].tolist() == expected["id"].tolist()
    assert written + len(whole.good(frame)) == len(frame)  # no row lost


def test_only_big_csv_and_parquet_files_are_chunked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "t.csv"
    _frame(100).to_csv(path, index=False)
    assert not needs_chunking(path)
    monkeypatch.setattr("loopml.data._scan.available_memory", lambda: 1000)
    assert needs_chunking(path)
    _frame(100).to_json(tmp_path / "t.json", orient="records")
    assert not needs_chunking(tmp_path / "t.json")
