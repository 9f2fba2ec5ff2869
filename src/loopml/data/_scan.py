"""Tables read a column or a block of rows at a time, so big files never load whole.

:class:`FrameColumns` wraps a DataFrame already in memory; :class:`ParquetColumns` reads a Parquet
file (a CSV file is first converted to Parquet in chunks) one column, or one batch of rows, at a
time, and spills the arrays later passes need (sort orders, ranks, category codes) to
memory-mapped files in a temporary folder. The profile and the validation run the same code over
either, so their statistics are the same.

:func:`needs_chunking` says when a file is too big to load: its estimated size in memory is over
a quarter of the memory available.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
import psutil
import pyarrow as pa
import pyarrow.parquet as pq

from loopml.data._csv_chunks import csv_to_parquet
from loopml.data._files import check_file, clean_columns, first_line, resolve_format
from loopml.errors import DataError

BLOCK_ROWS = 1 << 16
"""Rows per block of the in-memory path (and the default batch of the chunked one)."""
MEMORY_SHARE = 0.25
"""A file is processed in chunks when its estimated size in memory exceeds this share of the
memory available."""
_EXPANSION = {"csv": 2.0, "tsv": 2.0, "parquet": 5.0}
"""Rough size in memory of a file's table per byte on disk."""
CHUNKABLE_FORMATS = frozenset(_EXPANSION)
WORKERS = min(
    4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
)
"""Threads that profile the columns of a table in memory side by side (numpy and pandas release
the GIL in sorts, gathers and hashing)."""


class Columns(Protocol):
    """What the profile and the chunked validation read: column names, the row count, one
    column at a time, blocks of rows of some columns (in row order), a place to keep arrays
    between passes, and how many threads may read columns and keep arrays at once."""

    names: list[str]
    n_rows: int
    workers: int

    def column(self, name: str) -> pd.Series: ...

    def blocks(self, names: list[str], rows: int = BLOCK_ROWS) -> Iterator[pd.DataFrame]: ...

    def keep(self, array: np.ndarray) -> np.ndarray: ...


class FrameColumns:
    """A DataFrame in memory as :class:`Columns` (blocks are views; arrays are kept as they are)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.names = [str(c) for c in frame.columns]
        self.n_rows = len(frame)
        self.workers = WORKERS

    def column(self, name: str) -> pd.Series:
        return self.frame[name]

    def blocks(self, names: list[str], rows: int = BLOCK_ROWS) -> Iterator[pd.DataFrame]:
        selected = self.frame[names]
        for start in range(0, self.n_rows, rows):
            yield selected.iloc[start : start + rows]

    def keep(self, array: np.ndarray) -> np.ndarray:
        return array


def available_memory() -> int:
    """Bytes of memory available to this process now."""
    return int(psutil.virtual_memory().available)


def needs_chunking(path: str | Path, *, format: str | None = None) -> bool:
    """Whether ``path`` (CSV, TSV or Parquet) is too big to load whole: its estimated size in
    memory is over ``MEMORY_SHARE`` of the memory available. Other formats are always loaded."""
    file = Path(path)
    fmt = resolve_format(file, format)
    if fmt not in _EXPANSION:
        return False
    return file.stat().st_size * _EXPANSION[fmt] > MEMORY_SHARE * available_memory()


class ParquetColumns:
    """A CSV, TSV or Parquet file as :class:`Columns`, read a column or a batch (at most
    ``batch_rows`` rows) at a time; a CSV file is first converted to Parquet in chunks
    (:func:`~loopml.data._csv_chunks.csv_to_parquet`), with the types a whole read gives.

    Use as a context manager: the temporary folder (the converted CSV, spilled arrays) is removed
    on exit.

    Raises:
        DataError: the file is missing or empty, not CSV/TSV/Parquet, cannot be read, has no rows
            or duplicated column names.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        format: str | None = None,
        batch_rows: int = BLOCK_ROWS,
    ) -> None:
        self.path = check_file(path)
        self.batch_rows = batch_rows
        self.workers = 1  # one column in memory at a time: the point of reading in chunks
        fmt = resolve_format(self.path, format)
        if fmt not in CHUNKABLE_FORMATS:
            raise DataError(
                f"{self.path} is {fmt.upper()}; only CSV, TSV and Parquet files are read in "
                "chunks.",
                hint="Convert it to Parquet, or profile it without --chunked.",
            )
        self._folder = Path(tempfile.mkdtemp(prefix="loopml-scan-"))
        self._spilled = 0
        try:
            self._parquet = self.path if fmt == "parquet" else self._to_parquet(fmt)
            self._file = pq.ParquetFile(self._parquet)
        except (pa.ArrowException, OSError) as exc:
            self.close()
            raise DataError(
                f"{self.path} is not a valid Parquet file ({first_line(exc)}).",
                hint="Check the file is Parquet, or rename it to the extension of its real format.",
            ) from exc
        except BaseException:
            self.close()
            raise
        self.names = clean_columns(
            pd.DataFrame(columns=self._file.schema_arrow.names), str(self.path)
        ).columns.tolist()
        self.n_rows = int(self._file.metadata.num_rows)
        if self.n_rows == 0:
            self.close()
            raise DataError(
                f"The data file {self.path} has column names but no rows.",
                hint="Export the data again with its rows.",
            )
        self._raw = dict(zip(self.names, self._file.schema_arrow.names, strict=True))

    def _to_parquet(self, fmt: str) -> Path:
        target = self._folder / "table.parquet"
        csv_to_parquet(self.path, target, fmt=fmt)
        return target

    def column(self, name: str) -> pd.Series:
        pa.default_memory_pool().release_unused()  # earlier columns' buffers go back to the OS
        table = self._file.read(columns=[self._raw[name]], use_threads=False)
        return table.column(0).to_pandas().rename(name)

    def blocks(self, names: list[str], rows: int = BLOCK_ROWS) -> Iterator[pd.DataFrame]:
        raw = [self._raw[n] for n in names]
        size = min(rows, self.batch_rows)
        widen = {n: self._dtype(n) for n in names}
        # A reader of its own, closed at the end: a shared one keeps what it read buffered.
        with pq.ParquetFile(self._parquet, pre_buffer=False) as reader:
            for batch in reader.iter_batches(batch_size=size, columns=raw, use_threads=False):
                frame = batch.to_pandas().set_axis(names, axis=1)
                del batch
                changed = {n: d for n, d in widen.items() if d is not None and frame[n].dtype != d}
                yield frame.astype(changed) if changed else frame
        pa.default_memory_pool().release_unused()

    def _dtype(self, name: str) -> Any:
        """The dtype a whole-column read gives an integer or boolean column with missing values
        (float64, object), which a batch without missing values would not have; else None."""
        index = self._file.schema_arrow.get_field_index(self._raw[name])
        kind = self._file.schema_arrow.field(index).type
        if not (pa.types.is_integer(kind) or pa.types.is_boolean(kind)):
            return None
        metadata = self._file.metadata
        nulls = 0
        for group in range(metadata.num_row_groups):
            stats = metadata.row_group(group).column(index).statistics
            if stats is None or not stats.has_null_count:
                return self.column(name).dtype  # no statistics: ask the data
            nulls += stats.null_count
        if not nulls:
            return None
        return np.dtype("float64") if pa.types.is_integer(kind) else np.dtype(object)

    def keep(self, array: np.ndarray) -> np.ndarray:
        """``array`` moved to a memory-mapped file (read-only), so it costs no resident memory
        between passes."""
        self._spilled += 1
        path = self._folder / f"array-{self._spilled}.npy"
        mapped = np.lib.format.open_memmap(path, mode="w+", dtype=array.dtype, shape=array.shape)
        mapped[...] = array
        mapped.flush()
        del mapped
        return np.load(path, mmap_mode="r")

    def close(self) -> None:
        shutil.rmtree(self._folder, ignore_errors=True)

    def __enter__(self) -> ParquetColumns:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
