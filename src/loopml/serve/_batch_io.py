"""Incremental writers of scored chunks: input columns followed by the model's output columns."""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from loopml.errors import DataError


class ChunkWriter(abc.ABC):
    """Appends scored chunks to one output file; the first chunk fixes the columns."""

    @abc.abstractmethod
    def write(
        self,
        frame: pd.DataFrame | None,
        predicted: pd.DataFrame,
        batch: pa.RecordBatch | None = None,
    ) -> None:
        """Append the input rows with their ``predicted`` outputs (same rows, same order).

        The rows are ``batch`` when given (Arrow data, whose column types are then kept
        exactly; ``frame`` may be None), else ``frame``.

        Raises:
            DataError: the chunk's column types cannot be stored under the first chunk's.
        """

    @abc.abstractmethod
    def write_empty(self, schema: pa.Schema) -> None:
        """Write an output without rows (only its columns), when the input had no rows."""

    @abc.abstractmethod
    def close(self) -> None:
        """Finish the file."""


@contextlib.contextmanager
def open_writer(file_format: str, path: Path) -> Iterator[ChunkWriter]:
    """A writer of ``file_format`` (``csv`` or ``parquet``) to ``path``, closed on exit."""
    writer: ChunkWriter = (
        ParquetChunkWriter(path) if file_format == "parquet" else CSVChunkWriter(path)
    )
    try:
        yield writer
    finally:
        writer.close()


class ParquetChunkWriter(ChunkWriter):
    """Writes one row group per chunk with :class:`pyarrow.parquet.ParquetWriter`."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._writer: pq.ParquetWriter | None = None

    def write(
        self,
        frame: pd.DataFrame | None,
        predicted: pd.DataFrame,
        batch: pa.RecordBatch | None = None,
    ) -> None:
        if batch is not None:
            table = pa.Table.from_batches([batch])
        else:
            table = pa.Table.from_pandas(rows(frame, batch), preserve_index=False)
        for name in predicted.columns:
            table = table.append_column(str(name), pa.Array.from_pandas(predicted[name]))
        if self._writer is None:
            self._writer = pq.ParquetWriter(
                self._path, table.schema, use_dictionary=_dictionary_columns(table.schema)
            )
        elif not table.schema.equals(self._writer.schema):
            table = _conform(table, self._writer.schema)
        self._writer.write_table(table)

    def write_empty(self, schema: pa.Schema) -> None:
        pq.write_table(schema.empty_table(), self._path)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


class CSVChunkWriter(ChunkWriter):
    """Appends each chunk to one CSV file; the header is written with the first chunk."""

    def __init__(self, path: Path) -> None:
        self._handle: IO[str] = path.open("w", encoding="utf-8", newline="")
        self._header = True

    def write(
        self,
        frame: pd.DataFrame | None,
        predicted: pd.DataFrame,
        batch: pa.RecordBatch | None = None,
    ) -> None:
        frame = rows(frame, batch)
        predicted = predicted.set_axis(frame.index, axis=0)
        pd.concat([frame, predicted], axis=1).to_csv(self._handle, header=self._header, index=False)
        self._header = False

    def write_empty(self, schema: pa.Schema) -> None:
        pd.DataFrame(columns=schema.names).to_csv(self._handle, index=False)

    def close(self) -> None:
        self._handle.close()


def rows(frame: pd.DataFrame | None, batch: pa.RecordBatch | None) -> pd.DataFrame:
    """The input rows of a :meth:`ChunkWriter.write` call as a frame."""
    if batch is not None:
        return batch.to_pandas()
    if frame is None:
        raise ValueError("a chunk needs its rows as a frame or an Arrow batch")
    return frame


def _dictionary_columns(schema: pa.Schema) -> list[str]:
    """Columns worth dictionary encoding: text and categories. Numbers are written plain; their
    dictionaries cost a hash of every value and rarely pay off (scores are nearly all distinct)."""
    textual = (pa.types.is_string, pa.types.is_large_string, pa.types.is_dictionary)
    return [f.name for f in schema if any(test(f.type) for test in textual)]


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` cast to the schema of the first chunk (e.g. integers later holding nulls)."""
    try:
        return table.cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        changed = [
            f"{field.name} ({schema.field(field.name).type} then {field.type})"
            for field in table.schema
            if field.name in schema.names and not field.type.equals(schema.field(field.name).type)
        ]
        raise DataError(
            f"Column types change between chunks of the input: {', '.join(changed)}: {exc}",
            hint="Score with a larger chunk_rows, or convert the file to Parquet with fixed types.",
        ) from None
