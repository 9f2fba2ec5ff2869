"""Batch scoring from and to SQL databases: a query streamed in chunks, predictions appended to a
table in one transaction, on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from loopml.cli import app
from loopml.data import validate
from loopml.data._report import REASON_COLUMN
from loopml.errors import DataError
from loopml.project import Project, init_project
from loopml.serve._batch import score_query_to_file, score_to_table
from loopml.train import ModelBundle

SERVER_URL = os.environ.get(
    "LOOPML_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="module")
def rows(churn_frame: pd.DataFrame) -> pd.DataFrame:
    """Rows to score, two of them breaking the contract."""
    frame = churn_frame.iloc[3000:3500].drop(columns="churn").reset_index(drop=True)
    frame = frame.assign(customer=[f"c{i}" for i in range(len(frame))])
    frame.loc[7, "contract"] = "Forever"
    frame.loc[300, "tenure"] = -5
    return frame


@pytest.fixture
def sqlite_url(tmp_path: Path, rows: pd.DataFrame) -> str:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    engine = sa.create_engine(url)
    rows.to_sql("customers", engine, index=False)
    engine.dispose()
    return url


def read(url: str, table: str) -> pd.DataFrame:
    engine = sa.create_engine(url)
    try:
        return pd.read_sql_table(table, engine)
    finally:
        engine.dispose()


def assert_table_scores(url: str, rows: pd.DataFrame, bundle: ModelBundle) -> pd.DataFrame:
    report = validate(rows, bundle.contract)
    good = report.good(rows).reset_index(drop=True)
    written = read(url, "scores")
    expected = bundle.predict_frame(good)
    assert written["customer"].tolist() == good["customer"].tolist()
    assert written["prediction"].tolist() == expected["prediction"].tolist()
    np.testing.assert_allclose(written["probability_Yes"], expected["probability_Yes"])
    quarantined = read(url, "scores_quarantine")
    assert quarantined["customer"].tolist() == ["c7", "c300"]
    assert quarantined[REASON_COLUMN].tolist() == [
        "contract: allowed_categories",
        "tenure: in_range",
    ]
    return written


def test_a_query_is_scored_into_a_new_table_then_appended_to(
    sqlite_url: str, rows: pd.DataFrame, churn_bundle: ModelBundle, tmp_path: Path
) -> None:
    seen: list[int] = []
    result = score_to_table(
        churn_bundle,
        sqlite_url,
        "scores",
        query="SELECT * FROM customers",
        chunk_rows=120,
        progress=seen.append,
    )

    assert seen == [120, 120, 120, 120, 20]
    assert result.n_rows == 498 and result.n_quarantined == 2
    assert result.output == f"{sqlite_url}#scores" and result.output_path is None
    assert_table_scores(sqlite_url, rows, churn_bundle)

    source = tmp_path / "more.parquet"
    rows.iloc[:50].to_parquet(source, index=False)
    score_to_table(churn_bundle, sqlite_url, "scores", input_path=source)
    assert len(read(sqlite_url, "scores")) == 498 + 49


def test_a_table_with_other_columns_is_refused_and_left_alone(
    sqlite_url: str, churn_bundle: ModelBundle
) -> None:
    engine = sa.create_engine(sqlite_url)
    pd.DataFrame({"customer": ["x"], "score": [0.5]}).to_sql("scores", engine, index=False)
    engine.dispose()

    with pytest.raises(DataError) as caught:
        score_to_table(churn_bundle, sqlite_url, "scores", query="SELECT * FROM customers")

    assert caught.value.message.startswith("The table scores on ")
    assert "lacks 22 column(s) of the scored output: female, senior_citizen" in str(caught.value)
    assert read(sqlite_url, "scores").to_dict("list") == {"customer": ["x"], "score": [0.5]}


def test_a_failure_in_a_later_chunk_rolls_every_chunk_back(
    sqlite_url: str, churn_bundle: ModelBundle
) -> None:
    with pytest.raises(DataError, match="break the data contract"):
        score_to_table(
            churn_bundle,
            sqlite_url,
            "scores",
            query="SELECT * FROM customers",
            chunk_rows=100,
            on_invalid="fail",
        )

    engine = sa.create_engine(sqlite_url)
    assert not sa.inspect(engine).has_table("scores")
    engine.dispose()


def test_a_failing_query_is_a_data_error_without_the_password(
    churn_bundle: ModelBundle, tmp_path: Path, sqlite_url: str
) -> None:
    with pytest.raises(DataError, match="The query failed on sqlite:///") as caught:
        score_query_to_file(
            churn_bundle, sqlite_url, "SELECT * FROM nowhere", tmp_path / "out.parquet"
        )

    assert "no such table: nowhere" in caught.value.message
    assert not (tmp_path / "out.parquet").exists()


@pytest.fixture
def project(tmp_path: Path, churn_frame: pd.DataFrame, churn_bundle: ModelBundle) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    churn_frame.iloc[:300].to_csv(folder / "customers.csv", index=False)
    with init_project(folder, data=folder / "customers.csv", target="churn", name="churn") as p:
        p.registry.register("churn", churn_bundle)
    return folder


def test_cli_scores_a_query_into_a_table_and_records_the_run(
    project: Path, sqlite_url: str, rows: pd.DataFrame, churn_bundle: ModelBundle
) -> None:
    result = CliRunner().invoke(
        app,
        [
            *["predict", "--model", "churn:1", "--sql", sqlite_url],
            *["--query", "SELECT * FROM customers", "--output-table", "scores"],
            *["--on-invalid", "quarantine", "--project", str(project), "--json"],
        ],
    )

    assert result.exit_code == 0, result.output
    assert_table_scores(sqlite_url, rows, churn_bundle)
    with Project.open(project) as opened:
        runs = [r for r in opened.store.runs.list(opened.name) if r.kind == "batch_predict"]
    assert len(runs) == 1
    run = runs[0]
    assert run.params["model"] == "churn:1" and run.params["output_table"] == "scores"
    assert run.params["query"] == "SELECT * FROM customers"
    assert run.metrics["rows"] == 498 and run.metrics["quarantined"] == 2
    assert "violations.json" in run.artifacts


def test_cli_needs_exactly_one_input_and_one_output(project: Path, sqlite_url: str) -> None:
    result = CliRunner().invoke(
        app,
        [
            *["predict", "--model", "churn:1", "--query", "SELECT 1", "--output-table", "t"],
            *["--project", str(project)],
        ],
    )

    assert result.exit_code != 0
    assert "--query and --output-table need the database URL in --sql" in result.output


@pytest.fixture
def postgres_url(rows: pd.DataFrame) -> Iterator[str]:
    engine = sa.create_engine(SERVER_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as error:
        engine.dispose()
        if os.environ.get("LOOPML_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL at {SERVER_URL} is required but unreachable: {error}")
        pytest.skip(f"PostgreSQL at {SERVER_URL} is unreachable")
    schema = f"loopml_batch_{uuid4().hex[:12]}"
    with engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = sa.make_url(SERVER_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    rendered = url.render_as_string(hide_password=False)
    scoped = sa.create_engine(rendered)
    rows.to_sql("customers", scoped, index=False)
    scoped.dispose()
    yield rendered
    with engine.connect() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    engine.dispose()


@pytest.mark.postgres
def test_postgres_query_is_streamed_into_a_table(
    postgres_url: str, rows: pd.DataFrame, churn_bundle: ModelBundle
) -> None:
    result = score_to_table(
        churn_bundle, postgres_url, "scores", query="SELECT * FROM customers", chunk_rows=150
    )

    assert result.n_rows == 498 and result.n_quarantined == 2
    assert_table_scores(postgres_url, rows, churn_bundle)
    with pytest.raises(DataError, match="break the data contract"):
        score_to_table(
            churn_bundle,
            postgres_url,
            "scores",
            query="SELECT * FROM customers",
            chunk_rows=150,
            on_invalid="fail",
        )
    assert len(read(postgres_url, "scores")) == 498
