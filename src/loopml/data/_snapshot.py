"""Canonical Parquet snapshots of a DataFrame, and the content hash of a dataset version.

A snapshot is the immutable copy of ingested data. Its bytes depend only on the data (column
names, logical types and values, in the given row and column order), never on the DataFrame's
index, on whether strings were held as ``object`` or ``str``, or on the pandas version: the pandas
schema metadata is dropped, string types are normalised, and the writer's options are fixed. The
content hash is the SHA-256 of those bytes, so a dataset version's hash is also the address of its
stored artifact. (The bytes, hence the hash, are stable for a given pyarrow version.)
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from loopml.errors import DataError, NotFoundError

_DTYPES_KEY = b"loopml.dtypes"
# pandas dtypes that Arrow types alone cannot restore (a nullable Int64 with missing values would
# come back as float64); they are recorded in the snapshot's metadata by name.
_RESTORED_DTYPES = frozenset(
    {"Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64", "boolean"}
    | {"Float32", "Float64"}
)
_ROW_GROUP_SIZE = 128 * 1024


def _normalise_type(dtype: pa.DataType) -> pa.DataType:
    if pa.types.is_large_string(dtype) or pa.types.is_string_view(dtype):
        return pa.string()
    if pa.types.is_large_binary(dtype):
        return pa.binary()
    if pa.types.is_dictionary(dtype):
        return pa.dictionary(dtype.index_type, _normalise_type(dtype.value_type), dtype.ordered)
    return dtype


def to_arrow(df: pd.DataFrame) -> pa.Table:
    """``df`` as an Arrow table in canonical form (no index, no pandas metadata).

    Raises:
        DataError: column names are not unique, or a column mixes types Arrow cannot store
            (e.g. numbers and strings in one ``object`` column).
    """
    names = [str(c) for c in df.columns]
    if len(set(names)) != len(names):
        duplicated = sorted({n for n in names if names.count(n) > 1})
        raise DataError(
            f"Cannot snapshot a table with duplicated column names: {', '.join(duplicated)}.",
            hint="Rename the columns so each appears once.",
        )
    frame = df.set_axis(names, axis=1)
    arrays = []
    for name in names:
        try:
            arrays.append(pa.array(frame[name], from_pandas=True))
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise DataError(
                f"Column {name!r} mixes value types that cannot be stored together ({exc}).",
                hint="Convert the column to one type (e.g. df[col].astype(str)) before ingesting.",
            ) from exc
    fields = [pa.field(n, _normalise_type(a.type)) for n, a in zip(names, arrays, strict=True)]
    arrays = [a.cast(f.type) for a, f in zip(arrays, fields, strict=True)]
    restored = {n: str(frame[n].dtype) for n in names if str(frame[n].dtype) in _RESTORED_DTYPES}
    metadata = {_DTYPES_KEY: json.dumps(restored, sort_keys=True).encode()} if restored else None
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields, metadata=metadata))


def to_snapshot_bytes(df: pd.DataFrame) -> bytes:
    """The canonical Parquet bytes of ``df``: identical data gives identical bytes.

    Rows and columns keep the order given; the index is not stored.

    Raises:
        DataError: see :func:`to_arrow`.
    """
    buffer = io.BytesIO()
    pq.write_table(
        to_arrow(df),
        buffer,
        compression="zstd",
        compression_level=3,
        row_group_size=_ROW_GROUP_SIZE,
        write_statistics=True,
    )
    return buffer.getvalue()


def content_hash(df: pd.DataFrame) -> str:
    """SHA-256 hex digest of :func:`to_snapshot_bytes` of ``df``.

    The same table read from CSV or Parquet hashes equal when its dtypes match.
    """
    return hashlib.sha256(to_snapshot_bytes(df)).hexdigest()


def read_snapshot(source: str | Path | bytes) -> pd.DataFrame:
    """Read a snapshot (a path or its bytes) back into a DataFrame with a fresh RangeIndex.

    Raises:
        NotFoundError: the path does not exist.
        DataError: the content is not a Parquet snapshot.
    """
    if isinstance(source, bytes):
        reader: pa.BufferReader | Path = pa.BufferReader(source)
        where = "snapshot bytes"
    else:
        reader = Path(source)
        where = str(source)
        if not reader.is_file():
            raise NotFoundError(f"The snapshot {source} does not exist.")
    try:
        table = pq.read_table(reader)
    except (pa.ArrowException, OSError) as exc:
        raise DataError(
            f"The {where} are not a Parquet snapshot ({exc}).",
            hint="The file may be corrupt; ingest the data again.",
        ) from exc
    frame = table.to_pandas()
    restored = json.loads((table.schema.metadata or {}).get(_DTYPES_KEY, b"{}"))
    for name, dtype in restored.items():
        frame[name] = frame[name].astype(dtype)
    return frame
