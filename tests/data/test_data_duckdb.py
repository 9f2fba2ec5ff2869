"""DuckDB SQL over files: globs, relative paths, and one clear sentence for each bad query."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from loopml.data import describe_duckdb, read_duckdb
from loopml.errors import DataError


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "parts").mkdir()
    pd.DataFrame({"id": [1, 2], "amount": [10.0, -3.0]}).to_parquet(tmp_path / "parts/a.parquet")
    pd.DataFrame({"id": [3], "amount": [7.5]}).to_parquet(tmp_path / "parts/b.parquet")
    pd.DataFrame({"id": [1, 2, 3], "city": ["Oslo", "Lima", "Pune"]}).to_csv(
        tmp_path / "cities.csv", index=False
    )
    return tmp_path


def test_a_glob_over_parquet_files_is_filtered_and_joined_relative_to_base_dir(
    folder: Path,
) -> None:
    frame = read_duckdb(
        "SELECT p.id, amount, city FROM read_parquet('parts/*.parquet') p "
        "JOIN 'cities.csv' c USING (id) WHERE amount > 0 ORDER BY p.id",
        base_dir=folder,
    )
    assert frame.to_dict("list") == {"id": [1, 3], "amount": [10.0, 7.5], "city": ["Oslo", "Pune"]}


def test_the_description_records_the_query_and_the_folder(folder: Path) -> None:
    described = describe_duckdb("FROM 'cities.csv'", base_dir=folder)
    assert described["kind"] == "duckdb" and described["query"] == "FROM 'cities.csv'"
    assert described["base_dir"] == str(folder.resolve())


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("SELEC * FROM 'cities.csv'", "does not parse"),
        ("SELECT * FROM 'missing.csv'", "query failed: IO Error"),
        ("SELECT nope FROM 'cities.csv'", "query failed: Binder Error"),
        ("COPY (SELECT 1) TO 'out.csv'", "exactly one SELECT statement"),
        ("SELECT 1; SELECT 2", "exactly one SELECT statement"),
        ("SELECT * FROM 'cities.csv' WHERE id > 99", "returned no rows"),
        ("SELECT id, city AS id FROM 'cities.csv'", "duplicated column names"),
        ("  ", "is empty"),
    ],
)
def test_bad_queries_raise_one_sentence(folder: Path, query: str, message: str) -> None:
    with pytest.raises(DataError, match=message) as raised:
        read_duckdb(query, base_dir=folder)
    assert "\n" not in raised.value.message
    assert not (folder / "out.csv").exists()
