"""`loopml profile`, `loopml data show/diff/dictionary` and `loopml ingest --append/--sql`,
end to end through the CLI on a real project."""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from loopml.cli import app

runner = CliRunner()
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def invoke(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.output


def run_json(*args: str) -> object:
    return json.loads(invoke(*args, "--json"))


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 72, n)
    return pd.DataFrame(
        {
            "tenure": tenure,
            "charges": np.round(rng.uniform(20, 120, n), 2),
            "plan": rng.choice(["basic", "plus", "pro"], n),
            "churn": np.where(rng.random(n) < 0.3, "yes", "no"),
        }
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    data = tmp_path / "customers.csv"
    _frame(300, 0).to_csv(data, index=False)
    folder = tmp_path / "proj"
    invoke("init", "--data", str(data), "--target", "churn", "--project", str(folder))
    invoke("ingest", "--project", str(folder))
    return folder


def test_profile_of_the_newest_version_writes_html_and_json(project: Path) -> None:
    out = run_json("profile", "--project", str(project), "--output", str(project / "prof"))
    assert isinstance(out, dict)
    assert out["n_rows"] == 300 and out["target"]["column"] == "churn"
    assert out["columns"]["plan"]["kind"] == "category"
    html = (project / "prof" / "profile.html").read_text()
    assert "Plotly.newPlot" in html
    stored = json.loads((project / "prof" / "profile.json").read_text())
    assert stored["columns"]["tenure"]["mean"] == pytest.approx(out["columns"]["tenure"]["mean"])
    text = invoke("profile", "--project", str(project), "--output", str(project / "prof2"))
    assert "Profiled dataset version" in text and "profile.html" in text


def test_profile_of_a_file_outside_a_project(tmp_path: Path) -> None:
    data = tmp_path / "x.csv"
    _frame(100, 1).to_csv(data, index=False)
    out = run_json(
        "profile",
        "--data",
        str(data),
        "--target",
        "churn",
        "--output",
        str(tmp_path / "o"),
        "--project",
        str(tmp_path),
    )
    assert out["n_rows"] == 100 and (tmp_path / "o" / "profile.html").is_file()  # type: ignore[index]
    err = invoke("profile", "--project", str(tmp_path), code=3)
    assert "loopml.yaml" in err and "--data" in err


def test_append_makes_a_child_version_with_the_union_of_rows(project: Path, tmp_path: Path) -> None:
    batch = tmp_path / "batch.csv"
    _frame(50, 2).to_csv(batch, index=False)
    first = run_json("data", "list", "--project", str(project))[0]  # type: ignore[index]
    out = run_json("ingest", "--append", str(batch), "--project", str(project))
    assert out["new"] is True and out["rows"] == 350  # type: ignore[index]
    shown = run_json("data", "show", out["dataset"], "--project", str(project))  # type: ignore[index]
    assert shown["parent"] == first["id"] and shown["source"]["kind"] == "append"  # type: ignore[index]
    assert shown["schema"]["tenure"] == "int64"  # type: ignore[index]
    diff = run_json("data", "diff", first["id"], out["dataset"], "--project", str(project))  # type: ignore[index]
    assert diff["rows"] == {"before": 300, "after": 350, "change": 50}  # type: ignore[index]
    assert diff["schema"] == {"added": [], "removed": [], "type_changed": []}  # type: ignore[index]
    text = invoke("data", "diff", first["id"], out["dataset"], "--project", str(project))
    assert "300 -> 350" in text


def test_append_with_other_columns_names_them_and_stores_nothing(
    project: Path, tmp_path: Path
) -> None:
    batch = tmp_path / "bad.csv"
    _frame(20, 3).drop(columns="plan").assign(extra=1).to_csv(batch, index=False)
    err = invoke("ingest", "--append", str(batch), "--project", str(project), code=2)
    assert "missing plan" in err and "unexpected extra" in err
    assert len(run_json("data", "list", "--project", str(project))) == 1  # type: ignore[arg-type]


def test_dictionary_keeps_descriptions_from_the_contract(project: Path) -> None:
    contract = project / "contract.yaml"
    text = contract.read_text().replace(
        "name: tenure", "name: tenure\n    description: Months as a customer", 1
    )
    contract.write_text(text)
    out = run_json("data", "dictionary", "--project", str(project), "--output", str(project / "dd"))
    rows = {r["column"]: r for r in out["columns"]}  # type: ignore[index]
    assert rows["tenure"]["description"] == "Months as a customer"
    assert rows["churn"]["role"] == "target" and "one of no, yes" in rows["churn"]["constraints"]
    table = pd.read_csv(project / "dd" / "data-dictionary.csv")
    assert list(table.columns) == [
        "column",
        "type",
        "role",
        "description",
        "examples",
        "constraints",
    ]
    assert "Months as a customer" in (project / "dd" / "data-dictionary.md").read_text()


def test_data_show_unknown_version(project: Path) -> None:
    err = invoke("data", "show", "nope", "--project", str(project), code=3)
    assert "nope" in err


def test_ingest_from_sqlite_table_and_query(project: Path, tmp_path: Path) -> None:
    db = tmp_path / "shop.db"
    with sqlite3.connect(db) as conn:
        _frame(120, 4).to_sql("customers", conn, index=False)
    url = f"sqlite:///{db}"
    out = run_json("ingest", "--sql", url, "--table", "customers", "--project", str(project))
    assert out["rows"] == 120 and out["source"]["kind"] == "sql"  # type: ignore[index]
    query = "SELECT * FROM customers WHERE tenure > 30"
    out = run_json("ingest", "--sql", url, "--query", query, "--project", str(project))
    assert out["source"]["query"] == query  # type: ignore[index]
    err = invoke("ingest", "--sql", url, "--query", "SELEC nope", "--project", str(project), code=2)
    assert "query failed" in err
    err = invoke("ingest", "--sql", url, "--project", str(project), code=2)
    assert "exactly one of --query and --table" in err


def test_ingest_from_postgres_query(project: Path) -> None:
    table = f"loopml_ingest_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(POSTGRES_URL)
    try:
        _frame(80, 5).to_sql(table, engine, index=False)
        out = run_json(
            "ingest",
            "--sql",
            POSTGRES_URL,
            "--query",
            f"SELECT * FROM {table}",
            "--project",
            str(project),
        )
        assert out["rows"] == 80 and out["source"]["dialect"] == "postgresql"  # type: ignore[index]
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
        engine.dispose()
