"""Reading from SQL databases: SQLite files and the PostgreSQL server, and their failures."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from loopml.data import mask_url, read_sql
from loopml.errors import DataError, InvalidInputError

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ROWS = pd.DataFrame({"customer": ["a", "b", "c"], "spend": [1.5, 2.0, None], "Churn": [0, 1, 0]})


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    engine = sa.create_engine(url)
    ROWS.to_sql("customers", engine, index=False)
    engine.dispose()
    return url


def test_reads_a_query_and_a_table_from_sqlite(sqlite_url: str) -> None:
    by_query = read_sql(sqlite_url, query="SELECT customer, spend FROM customers WHERE Churn = 0")
    assert by_query.to_dict("list")["customer"] == ["a", "c"]
    by_table = read_sql(sqlite_url, table="customers")
    assert by_table.shape == (3, 3) and list(by_table.columns) == ["customer", "spend", "Churn"]


def test_query_column_names_are_stripped_and_duplicates_refused(sqlite_url: str) -> None:
    frame = read_sql(sqlite_url, query='SELECT customer AS " name " FROM customers')
    assert list(frame.columns) == ["name"]
    with pytest.raises(DataError, match="duplicated column names: 'spend'"):
        read_sql(sqlite_url, query="SELECT spend, spend FROM customers")


def test_needs_exactly_one_of_query_and_table(sqlite_url: str) -> None:
    with pytest.raises(InvalidInputError, match="exactly one of"):
        read_sql(sqlite_url)
    with pytest.raises(InvalidInputError, match="exactly one of"):
        read_sql(sqlite_url, query="SELECT 1", table="customers")


def test_sql_failures_are_data_errors_quoting_the_database(sqlite_url: str, tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"The query failed.*no such column: nope") as info:
        read_sql(sqlite_url, query="SELECT nope FROM customers")
    assert info.value.__cause__ is not None
    with pytest.raises(DataError, match="no table 'customer'") as info:
        read_sql(sqlite_url, table="customer")
    assert "customers" in str(info.value.hint)
    with pytest.raises(DataError, match="returned no rows"):
        read_sql(sqlite_url, query="SELECT * FROM customers WHERE 1 = 0")
    with pytest.raises(DataError, match=r"SQLite database file .* does not exist"):
        read_sql(f"sqlite:///{tmp_path / 'missing.db'}", table="customers")
    assert not (tmp_path / "missing.db").exists()
    with pytest.raises(DataError, match="is not a database URL"):
        read_sql("not a url", query="SELECT 1")


def test_connection_failure_masks_the_password() -> None:
    url = "postgresql+psycopg://ana:s3cret@127.0.0.1:1/sales"
    with pytest.raises(DataError, match="Could not connect to") as info:
        read_sql(url, query="SELECT 1")
    assert "s3cret" not in str(info.value)
    assert "ana:***@127.0.0.1:1/sales" in info.value.message


def test_mask_url_handles_unparseable_urls() -> None:
    assert mask_url("weird://bob:pw@host/x") == "weird://bob:***@host/x"
    assert mask_url("sqlite:///a.db") == "sqlite:///a.db"


@pytest.fixture
def postgres_table() -> Iterator[str]:
    engine = sa.create_engine(POSTGRES_URL)
    name = f"loopml_test_{uuid.uuid4().hex[:12]}"
    try:
        ROWS.to_sql(name, engine, index=False)
    except sa.exc.OperationalError as error:
        engine.dispose()
        if os.environ.get("LOOPML_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL at {POSTGRES_URL} is required but unreachable: {error}")
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    try:
        yield name
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP TABLE IF EXISTS "{name}"'))
        engine.dispose()


@pytest.mark.postgres
def test_reads_from_postgresql(postgres_table: str) -> None:
    frame = read_sql(POSTGRES_URL, table=postgres_table)
    assert frame.shape == (3, 3)
    query = f'SELECT customer, "Churn" FROM "{postgres_table}" WHERE spend > 1.8'
    assert read_sql(POSTGRES_URL, query=query).to_dict("list") == {"customer": ["b"], "Churn": [1]}
    with pytest.raises(DataError, match=r"The query failed.*does not exist"):
        read_sql(POSTGRES_URL, query=f'SELECT nope FROM "{postgres_table}"')
    with pytest.raises(DataError, match="no table"):
        read_sql(POSTGRES_URL, table=postgres_table + "_x")
