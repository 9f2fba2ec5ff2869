"""Where batch scoring reads rows from: CSV and Parquet files, or a SQL query, in chunks."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeAlias

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from loopml.errors import DataError, InvalidInputError, NotFoundError

Chunk: TypeAlias = pa.RecordBatch | pd.DataFrame
FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


@dataclass(frozen=True)
class ChunkSource:
    """Rows to score: their column names, and a reader of chunks of at most N rows.

    Attributes:
        name: how messages name the source (a file name, or the masked URL).
        columns: the column names, known before any row is read.
        read: ``read(n)`` yields chunks of at most ``n`` rows (Arrow batches or frames).
        empty_schema: the Arrow schema of the source's columns (for an output without rows).
        read_as_dictionary: text columns the chunks carry dictionary-encoded (checks and
            encoders then work once per distinct value), with the type they are written back as.
    """

    name: str
    columns: list[str]
    read: Callable[[int], Iterator[Chunk]]
    empty_schema: Callable[[], pa.Schema]
    read_as_dictionary: dict[str, pa.DataType] = field(default_factory=dict)


def file_format(path: Path) -> str:
    """``csv`` or ``parquet``, from the extension.

    Raises:
        InvalidInputError: another extension.
    """
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise InvalidInputError(
            f"Cannot score {path.name}: batch scoring reads and writes .csv and .parquet files.",
            hint="Convert the file, or name the output with a .csv or .parquet extension.",
        ) from None


def file_source(path: Path) -> ChunkSource:
    """A CSV or Parquet file. Parquet is read one batch at a time with ``iter_batches`` (string
    columns dictionary-encoded when the file stores them so), CSV with pandas' chunked reader.

    Raises:
        NotFoundError: the file does not exist.
        InvalidInputError: the extension is not supported.
        DataError: the file cannot be read.
    """
    kind = file_format(path)
    if not path.is_file():
        raise NotFoundError(f"The input file {path} does not exist.")
    try:
        if kind == "parquet":
            schema = pq.read_schema(path)
            text = {
                f.name: f.type
                for f in schema
                if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
            }
            reader = _parquet_reader(path, list(text))
            return ChunkSource(path.name, list(schema.names), reader, lambda: schema, text)
        header = pd.read_csv(path, nrows=0)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise DataError(f"Cannot read {path}: {exc}") from None
    return ChunkSource(
        path.name,
        [str(c) for c in header.columns],
        _csv_reader(path),
        lambda: pa.Schema.from_pandas(header, preserve_index=False),
    )


def _parquet_reader(path: Path, text: list[str]) -> Callable[[int], Iterator[Chunk]]:
    def read(chunk_rows: int) -> Iterator[Chunk]:
        try:
            parquet = pq.ParquetFile(path, pre_buffer=True, read_dictionary=text)
            yield from parquet.iter_batches(batch_size=chunk_rows, use_threads=True)
        except (OSError, ValueError, pa.ArrowException) as exc:
            raise DataError(f"Cannot read {path}: {exc}") from None

    return read


def _csv_reader(path: Path) -> Callable[[int], Iterator[Chunk]]:
    def read(chunk_rows: int) -> Iterator[Chunk]:
        try:
            with pd.read_csv(path, chunksize=chunk_rows) as reader:
                yield from reader
        except (OSError, ValueError) as exc:
            raise DataError(f"Cannot read {path}: {exc}") from None

    return read


def sql_source(url: str, query: str) -> ChunkSource:
    """The result of ``query`` on the database at ``url``, streamed with a server-side cursor.

    Raises:
        DataError: the URL is malformed, the database cannot be reached or the query fails.
    """
    from loopml.data._sql import mask_url
    from loopml.serve._batch_sql import query_chunks, query_columns

    columns = query_columns(url, query)
    return ChunkSource(
        f"the query on {mask_url(url)}",
        columns,
        lambda chunk_rows: query_chunks(url, query, chunk_rows),
        lambda: pa.schema([pa.field(c, pa.null()) for c in columns]),
    )


def prefetched(chunks: Iterator[Chunk], depth: int = 1) -> Iterator[Chunk]:
    """``chunks`` read ahead by a background thread, at most ``depth`` waiting."""
    done = object()
    slots: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def pump() -> None:
        try:
            for chunk in chunks:
                while not stop.is_set():
                    try:
                        slots.put(chunk, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            slots.put(done)
        except BaseException as exc:  # handed to the consumer, raised there
            slots.put(exc)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=pump, name="loopml-batch-reader", daemon=True)
    thread.start()
    try:
        while True:
            item = slots.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        with contextlib.suppress(queue.Empty):
            while True:
                slots.get_nowait()
        thread.join()
