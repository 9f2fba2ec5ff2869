"""`loopml ingest --duckdb` and a charter whose data source is a DuckDB query over files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import yaml
from typer.testing import CliRunner

from loopml.cli import app

runner = CliRunner()


def invoke(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.output


def _project(tmp_path: Path) -> Path:
    rows = pd.DataFrame(
        {
            "tenure": list(range(1, 61)),
            "plan": ["basic", "pro", "plus"] * 20,
            "churn": ["yes", "no", "no", "no"] * 15,
        }
    )
    folder = tmp_path / "proj"
    (folder / "data").mkdir(parents=True)
    rows.iloc[:30].to_parquet(folder / "data/2024.parquet")
    rows.iloc[30:].to_parquet(folder / "data/2025.parquet")
    rows.to_csv(tmp_path / "all.csv", index=False)
    invoke("init", "--data", str(tmp_path / "all.csv"), "--target", "churn", "-p", str(folder))
    return folder


def test_ingest_duckdb_query_records_it_and_stores_the_rows(tmp_path: Path) -> None:
    folder = _project(tmp_path)
    query = f"SELECT * FROM read_parquet('{folder}/data/*.parquet') WHERE tenure > 10"
    out = json.loads(invoke("ingest", "--duckdb", query, "-p", str(folder), "--json"))
    assert out["rows"] == 50 and out["new"] is True
    assert out["source"]["kind"] == "duckdb" and out["source"]["query"] == query
    shown = json.loads(invoke("data", "show", out["dataset"], "-p", str(folder), "--json"))
    assert shown["source"]["query"] == query


def test_charter_duckdb_source_reads_paths_relative_to_the_project(tmp_path: Path) -> None:
    folder = _project(tmp_path)
    charter = yaml.safe_load((folder / "loopml.yaml").read_text())
    charter["data"] = {"duckdb": "FROM read_parquet('data/*.parquet') WHERE plan <> 'pro'"}
    (folder / "loopml.yaml").write_text(yaml.safe_dump(charter))
    out = json.loads(invoke("ingest", "-p", str(folder), "--json"))
    assert out["rows"] == 40
    assert out["source"]["base_dir"] == str(folder.resolve())


def test_a_bad_duckdb_query_is_one_sentence_and_stores_nothing(tmp_path: Path) -> None:
    folder = _project(tmp_path)
    output = invoke(
        "ingest", "--duckdb", "SELECT * FROM 'nowhere/*.csv'", "-p", str(folder), code=2
    )
    assert "The DuckDB query failed" in output
    assert json.loads(invoke("data", "list", "-p", str(folder), "--json")) == []
    output = invoke("ingest", "--duckdb", "SELECT 1", "--data", "x.csv", "-p", str(folder), code=2)
    assert "--duckdb is a source of its own" in output


def test_charter_with_two_sources_is_refused(tmp_path: Path) -> None:
    folder = _project(tmp_path)
    charter = yaml.safe_load((folder / "loopml.yaml").read_text())
    charter["data"]["duckdb"] = "FROM 'x.csv'"
    (folder / "loopml.yaml").write_text(yaml.safe_dump(charter))
    output = invoke("ingest", "-p", str(folder), code=2)
    assert "exactly one of 'path'" in output
