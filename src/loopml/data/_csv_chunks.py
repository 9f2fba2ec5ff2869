"""Converting a CSV file too big to load into Parquet, in chunks, with the column types a
whole-file :func:`~loopml.data.read_table` would give.

pandas infers types per chunk, so a column can be ``int64`` in one chunk and ``float64`` (it has
missing values) or text in another. A first pass records each chunk's kind per column; the
second reads again and converts every chunk to the type the whole file would have had (ints with
missing values anywhere become floats, booleans with missing values Python objects, a column with
text anywhere is text throughout), then appends it to the Parquet file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from loopml.data._files import (
    _SNIFF_BYTES,
    _check_duplicates,
    _check_text,
    _encoding,
    _sniff_delimiter,
    first_line,
)
from loopml.errors import DataError

CHUNK_ROWS = 200_000
ROW_GROUP_ROWS = 1 << 16
"""Small row groups, so a batch of rows of the converted file decodes in little memory."""


def _kind(column: pd.Series) -> str:
    """``int``, ``float``, ``bool``, ``boolnan`` (booleans and missing values), ``empty`` (all
    missing) or ``text`` for one chunk of a column."""
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "empty" if column.isna().all() else "float"
    if dtype == np.dtype(object):
        present = column.dropna()
        if present.empty:
            return "empty"
        if all(isinstance(v, bool) for v in present.to_numpy()):
            return "boolnan"
    return "text"


def _combine(kinds: set[str]) -> str:
    """The kind of the whole column from the kinds of its chunks."""
    if kinds <= {"int"}:
        return "int"
    if kinds <= {"bool"}:
        return "bool"
    if kinds <= {"int", "float", "empty"}:
        return "float"
    if kinds <= {"bool", "boolnan", "empty"}:
        return "boolnan"
    return "text"


_ARROW = {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "boolnan": pa.bool_()}


def _chunks(path: Path, sep: str, encoding: str, dtype: Any = None) -> Iterator[pd.DataFrame]:
    yield from pd.read_csv(path, sep=sep, encoding=encoding, chunksize=CHUNK_ROWS, dtype=dtype)


def csv_to_parquet(path: Path, target: Path, *, fmt: str = "csv") -> None:
    """Write the table of the CSV (or TSV) file ``path`` to the Parquet file ``target`` without
    loading it whole.

    Raises:
        DataError: the file is not text, cannot be parsed, has duplicated column names or no rows.
    """
    with path.open("rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    _check_text(path, head, fmt)
    encoding = _encoding(head)
    sep = "\t" if fmt == "tsv" else _sniff_delimiter(head.decode(encoding, errors="ignore"))
    try:
        header = pd.read_csv(path, sep=sep, encoding=encoding, header=None, nrows=1, dtype=str)
        _check_duplicates([str(v) for v in header.iloc[0].tolist() if pd.notna(v)], str(path))
        kinds: dict[str, set[str]] = {}
        for chunk in _chunks(path, sep, encoding):
            for name, column in chunk.items():
                kinds.setdefault(str(name), set()).add(_kind(column))
        combined = {name: _combine(found) for name, found in kinds.items()}
        text = {name: "str" for name, kind in combined.items() if kind == "text"}
        schema = pa.schema(
            [(name, _ARROW.get(kind, pa.large_string())) for name, kind in combined.items()]
        )
        rows = 0
        with pq.ParquetWriter(target, schema) as writer:
            for chunk in _chunks(path, sep, encoding, dtype=text or None):
                chunk.columns = list(combined)
                for name, kind in combined.items():
                    if kind == "float":
                        chunk[name] = chunk[name].astype("float64")
                    elif kind == "boolnan":
                        chunk[name] = chunk[name].astype(object).where(chunk[name].notna(), None)
                writer.write_table(
                    pa.Table.from_pandas(chunk, schema=schema, preserve_index=False),
                    row_group_size=ROW_GROUP_ROWS,
                )
                rows += len(chunk)
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"The data file {path} holds no data.", hint="Export it again.") from exc
    except (pd.errors.ParserError, ValueError, pa.ArrowException) as exc:
        raise DataError(
            f"{path} could not be read as {fmt.upper()}: {first_line(exc)}.",
            hint="Check the delimiter and quoting, or pass the right format=.",
        ) from exc
    if rows == 0:
        raise DataError(
            f"The data file {path} has column names but no rows.",
            hint="Export the data again with its rows.",
        )
