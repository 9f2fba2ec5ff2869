"""Reading tables from SQL databases through SQLAlchemy (SQLite, PostgreSQL, …).

Connection and query failures become one :class:`DataError` sentence that quotes the database's
message briefly and never shows the password.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from loopml.data._files import clean_columns, first_line
from loopml.errors import DataError, InvalidInputError

_CONNECT_TIMEOUT_S = 10


def mask_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (also for URLs SQLAlchemy cannot parse)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (sa.exc.ArgumentError, ValueError):
        scheme, sep, rest = url.partition("://")
        if sep and "@" in rest:
            creds, _, host = rest.rpartition("@")
            user = creds.split(":", 1)[0]
            return f"{scheme}://{user}:***@{host}" if ":" in creds else url
        return url


def read_sql(url: str, query: str | None = None, table: str | None = None) -> pd.DataFrame:
    """Read the result of ``query``, or the whole ``table``, from the database at ``url``.

    ``url`` is a SQLAlchemy URL (``sqlite:///data.db``,
    ``postgresql+psycopg://user:pw@host/db``); ``table`` may be ``schema.table``.

    Raises:
        InvalidInputError: not exactly one of ``query`` and ``table`` is given.
        DataError: the URL is malformed, the database cannot be reached, the table does not
            exist, the query fails, or it returns no rows (messages never show the password).
    """
    if (query is None) == (table is None):
        raise InvalidInputError(
            "read_sql needs exactly one of query= and table=.",
            hint="Pass a SELECT statement as query=, or a table name as table=.",
        )
    engine = _engine(url)
    shown = mask_url(url)
    try:
        try:
            conn = engine.connect()
        except sa.exc.SQLAlchemyError as exc:
            raise DataError(
                f"Could not connect to {shown}: {first_line(exc)}.",
                hint="Check the host, port, database name and credentials.",
            ) from exc
        with conn:
            statement = sa.text(query) if query is not None else _table_select(conn, str(table))
            try:
                frame = pd.read_sql_query(statement, conn)
            except (sa.exc.SQLAlchemyError, pd.errors.DatabaseError) as exc:
                raise DataError(
                    f"The query failed on {shown}: {first_line(exc)}.",
                    hint="Fix the SQL and try again.",
                ) from exc
    finally:
        engine.dispose()
    frame = clean_columns(frame, "The query result" if query is not None else f"Table {table}")
    if len(frame) == 0:
        raise DataError(
            f"The {'query' if query is not None else 'table'} returned no rows from {shown}.",
            hint="Check the filter conditions or that the table holds data.",
        )
    return frame


def _engine(url: str) -> sa.Engine:
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError as exc:
        raise DataError(
            f"{mask_url(url)!r} is not a database URL.",
            hint="Use a SQLAlchemy URL such as sqlite:///data.db or "
            "postgresql+psycopg://user:password@host:5432/db.",
        ) from exc
    database = parsed.database or ""
    # SQLite would silently create a new, empty database for a mistyped path.
    is_sqlite_file = parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:")
    if is_sqlite_file and not database.startswith("file:") and not Path(database).is_file():
        raise DataError(
            f"The SQLite database file {database} does not exist.",
            hint="Check the path in the URL (sqlite:///relative.db or sqlite:////abs.db).",
        )
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        connect_args["connect_timeout"] = _CONNECT_TIMEOUT_S  # fail fast on unreachable hosts
    try:
        return sa.create_engine(parsed, connect_args=connect_args)
    except (sa.exc.ArgumentError, ImportError) as exc:
        raise DataError(
            f"Cannot open database URL {mask_url(url)}: {first_line(exc)}.",
            hint="Check the dialect name and that its driver is installed.",
        ) from exc


def _table_select(conn: sa.Connection, name: str) -> sa.Select[Any]:
    schema, _, table_name = name.rpartition(".")
    try:
        table = sa.Table(table_name, sa.MetaData(), schema=schema or None, autoload_with=conn)
    except sa.exc.NoSuchTableError as exc:
        known = sa.inspect(conn).get_table_names(schema=schema or None)
        close = difflib.get_close_matches(table_name, known, n=3)
        hint = f"Did you mean {', '.join(close)}?" if close else f"Tables: {', '.join(known)}."
        raise DataError(f"The database has no table {name!r}.", hint=hint) from exc
    return sa.select(table)
