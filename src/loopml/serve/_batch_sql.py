"""Batch scoring from and to SQL databases: query results read in chunks, predictions appended
to a table.

Reading streams the query with a server-side cursor (``stream_results``) through
``pandas.read_sql_query(chunksize=…)``, so memory holds one chunk. Writing appends to the table
(created from the first chunk when missing) inside one transaction committed at the end, so a
failure leaves the table as it was.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from loopml.data._files import first_line
from loopml.data._sql import _engine, mask_url
from loopml.errors import DataError
from loopml.serve._batch_io import ChunkWriter, ParquetChunkWriter, rows

_SQL_ERRORS = (sa.exc.SQLAlchemyError, pd.errors.DatabaseError)


def query_columns(url: str, query: str) -> list[str]:
    """The column names ``query`` returns (its rows are not fetched: a server-side cursor).

    Raises:
        DataError: the database cannot be reached or the query fails.
    """
    engine = _engine(url)
    try:
        with _connect(engine, url) as conn:
            streaming = conn.execution_options(stream_results=True)
            result = streaming.execute(sa.text(query))
            names = [str(c) for c in result.keys()]  # noqa: SIM118 (a Result, not a dict)
            result.close()
            return names
    except _SQL_ERRORS as exc:
        raise DataError(
            f"The query failed on {mask_url(url)}: {first_line(exc)}.",
            hint="Fix the SQL and try again.",
        ) from None
    finally:
        engine.dispose()


def query_chunks(url: str, query: str, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """The rows of ``query`` in frames of at most ``chunk_rows`` rows, streamed from the server.

    Raises:
        DataError: the database cannot be reached or the query fails.
    """
    engine = _engine(url)
    try:
        with _connect(engine, url) as conn:
            streaming = conn.execution_options(stream_results=True, max_row_buffer=chunk_rows)
            try:
                yield from pd.read_sql_query(sa.text(query), streaming, chunksize=chunk_rows)
            except _SQL_ERRORS as exc:
                raise DataError(
                    f"The query failed on {mask_url(url)}: {first_line(exc)}.",
                    hint="Fix the SQL and try again.",
                ) from None
    finally:
        engine.dispose()


def is_sqlite(url: str) -> bool:
    """Whether ``url`` names a SQLite database (one writer, and readers block its commits)."""
    return url.strip().lower().startswith("sqlite")


@contextlib.contextmanager
def spooled_query(url: str, query: str, chunk_rows: int) -> Iterator[Path]:
    """The rows of ``query`` copied chunk by chunk into a temporary Parquet file, deleted on
    exit. Scoring a SQLite query into a table of the same file needs it: SQLite cannot commit
    a write while another connection still reads.

    Raises:
        DataError: the query fails, or its column types change between chunks.
    """
    with tempfile.TemporaryDirectory(prefix="loopml-spool-") as folder:
        path = Path(folder) / "query.parquet"
        writer = ParquetChunkWriter(path)
        try:
            empty = True
            for chunk in query_chunks(url, query, chunk_rows):
                writer.write(chunk, pd.DataFrame(index=chunk.index))
                empty = False
            if empty:
                names = query_columns(url, query)
                writer.write_empty(pa.schema([pa.field(c, pa.null()) for c in names]))
        finally:
            writer.close()
        yield path


class TableWriter(ChunkWriter):
    """Appends scored chunks to the table ``name`` (``schema.table`` allowed) in one transaction.

    The table is created from the first chunk's columns when missing. An existing table must
    have every column of the output; otherwise the first :meth:`write` raises naming the
    missing ones. Nothing is committed before :meth:`commit`; :meth:`close` without it rolls
    every chunk back.
    """

    def __init__(self, url: str, name: str, parent: TableWriter | None = None) -> None:
        self._url, self._shown = url, mask_url(url)
        self._schema, _, self._table = name.rpartition(".")
        self._name = name
        self._parent = parent
        if parent is None:
            self._engine = _engine(url)
            self._conn = _connect(self._engine, url)
            self._transaction = self._conn.begin()
        else:
            self._engine, self._conn = parent._engine, parent._conn
            self._transaction = parent._transaction
        self._checked = False
        self._committed = False

    def sibling(self, name: str) -> TableWriter:
        """A writer of table ``name`` in this writer's transaction (committed with it)."""
        return TableWriter(self._url, name, parent=self)

    def write(
        self,
        frame: pd.DataFrame | None,
        predicted: pd.DataFrame,
        batch: pa.RecordBatch | None = None,
    ) -> None:
        inputs = rows(frame, batch)
        self._append(pd.concat([inputs, predicted.set_axis(inputs.index, axis=0)], axis=1))

    def write_empty(self, schema: pa.Schema) -> None:
        self._append(schema.empty_table().to_pandas())

    def commit(self) -> None:
        """Make every appended chunk (of this writer and its siblings) visible at once."""
        try:
            self._transaction.commit()
        except _SQL_ERRORS as exc:
            raise self._error(exc) from None
        self._committed = True

    def close(self) -> None:
        if self._parent is not None:
            return
        try:
            if not self._committed and self._transaction.is_active:
                self._transaction.rollback()
        finally:
            self._conn.close()
            self._engine.dispose()

    def _append(self, rows: pd.DataFrame) -> None:
        if not self._checked:
            self._check_table(list(rows.columns))
            self._checked = True
        try:
            rows.to_sql(
                self._table,
                self._conn,
                schema=self._schema or None,
                if_exists="append",
                index=False,
                chunksize=10_000,
            )
        except (*_SQL_ERRORS, ValueError, TypeError) as exc:
            raise self._error(exc) from None

    def _check_table(self, columns: list[str]) -> None:
        inspector = sa.inspect(self._conn)
        if not inspector.has_table(self._table, schema=self._schema or None):
            return
        existing = {c["name"] for c in inspector.get_columns(self._table, self._schema or None)}
        missing = [c for c in columns if c not in existing]
        if missing:
            raise DataError(
                f"The table {self._name} on {self._shown} exists but lacks {len(missing)} "
                f"column(s) of the scored output: {', '.join(missing)}.",
                hint="Write to a new table with --output-table, or add the columns.",
            )

    def _error(self, exc: BaseException) -> DataError:
        return DataError(
            f"Could not write the predictions to table {self._name} on {self._shown}: "
            f"{first_line(exc)}.",
            hint="Check that the table's column types match the scored output.",
        )


def _connect(engine: sa.Engine, url: str) -> sa.Connection:
    try:
        return engine.connect()
    except _SQL_ERRORS as exc:
        raise DataError(
            f"Could not connect to {mask_url(url)}: {first_line(exc)}.",
            hint="Check the host, port, database name and credentials.",
        ) from None


@contextlib.contextmanager
def opened_table_writer(url: str, name: str) -> Iterator[TableWriter]:
    """A :class:`TableWriter`, rolled back unless committed, and closed on exit."""
    writer = TableWriter(url, name)
    try:
        yield writer
    finally:
        writer.close()


def describe_target(url: str, name: str) -> str:
    """How a table target is named in results and run records (password masked)."""
    return f"{mask_url(url)}#{name}"
