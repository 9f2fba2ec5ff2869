"""Reading the result of a DuckDB SQL query over files (CSV, Parquet, JSON; globs too).

The query runs in a fresh in-memory DuckDB connection whose file search path is ``base_dir``, so
relative paths in it (``FROM 'flights.csv'``, ``read_parquet('data/*.parquet')``) are relative
to that folder (the project folder for a charter source). Only one read-only statement is run:
``SELECT``/``FROM …``/``WITH …``; anything that could write (``COPY``, ``CREATE``) is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from loopml.data._files import clean_columns, first_line
from loopml.errors import DataError


def _check_query(con: duckdb.DuckDBPyConnection, query: str) -> None:
    if not query.strip():
        raise DataError("The DuckDB query is empty.", hint="Pass a SELECT statement.")
    try:
        statements = con.extract_statements(query)
    except duckdb.Error as exc:
        raise DataError(
            f"The DuckDB query does not parse: {first_line(exc)}.",
            hint="Fix the SQL, e.g. SELECT * FROM 'data.csv' WHERE amount > 0.",
        ) from exc
    kinds = [s.type for s in statements]
    if kinds != [duckdb.StatementType.SELECT]:
        shown = ", ".join(str(k).rsplit(".", 1)[-1] for k in kinds) or "none"
        raise DataError(
            f"A DuckDB source must be exactly one SELECT statement (got: {shown}).",
            hint="Write one query such as SELECT * FROM read_parquet('data/*.parquet').",
        )


def read_duckdb(query: str, *, base_dir: str | Path | None = None) -> pd.DataFrame:
    """The rows of the DuckDB ``query``, with relative file paths resolved from ``base_dir``
    (default: the current directory).

    Raises:
        DataError: the query is empty, not one SELECT statement, fails (syntax error, missing
            file, unknown column …), returns no rows, or has duplicated column names.
    """
    folder = Path(base_dir or ".").expanduser().resolve()
    with duckdb.connect(":memory:") as con:
        _check_query(con, query)
        con.execute("SET file_search_path = ?", [str(folder)])
        try:
            table = con.sql(query).to_arrow_table()
        except duckdb.Error as exc:
            raise DataError(
                f"The DuckDB query failed: {first_line(exc).rstrip('!')}.",
                hint=f"Fix the SQL; relative file paths start from {folder}.",
            ) from exc
    frame = clean_columns(table.to_pandas(), "The DuckDB query result")
    if len(frame) == 0:
        raise DataError(
            "The DuckDB query returned no rows.",
            hint="Check the file paths and the filter conditions.",
        )
    return frame


def describe_duckdb(query: str, *, base_dir: str | Path | None = None) -> dict[str, Any]:
    """The lineage record of a DuckDB source: the query, the folder its paths start from and
    DuckDB's version."""
    return {
        "kind": "duckdb",
        "query": query,
        "base_dir": str(Path(base_dir or ".").expanduser().resolve()),
        "duckdb": duckdb.__version__,
    }
