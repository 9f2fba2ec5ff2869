"""Batch scoring of CSV and Parquet files, streamed in chunks with bounded memory.

The output holds the input's columns followed by the model's output columns (``prediction`` and,
for classifiers, ``probability_<class>``). It is written to a temporary file next to the
destination and renamed into place only once every chunk is scored, so a failure never leaves a
half-written output behind.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from loopml.errors import DataError, InvalidInputError, NotFoundError
from loopml.serve._batch_io import ChunkWriter, open_writer
from loopml.train._bundle import ModelBundle

_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


@dataclass(frozen=True)
class BatchResult:
    """What :func:`score_file` wrote."""

    n_rows: int
    output_path: Path
    seconds: float


def score_file(
    bundle: ModelBundle,
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    *,
    chunk_rows: int = 100_000,
    progress: Callable[[int], None] | None = None,
) -> BatchResult:
    """Score every row of a CSV or Parquet file and write the input plus predictions.

    Formats follow the extensions (``.csv``, ``.parquet``/``.pq``); input and output formats may
    differ. At most ``chunk_rows`` rows are in memory at a time.

    Args:
        progress: called after each chunk with the number of rows scored in it.

    Raises:
        NotFoundError: the input file does not exist.
        InvalidInputError: an extension is not supported or ``chunk_rows`` is not positive.
        DataError: the input lacks a model input column or already has an output column (raised
            before anything is written), or cannot be read or scored; the output is left as it was.
    """
    started = time.perf_counter()
    source, target = Path(input_path), Path(output_path)
    source_format, target_format = _format(source), _format(target)
    if chunk_rows <= 0:
        raise InvalidInputError(
            f"The 'chunk_rows' parameter of score_file must be positive. Got {chunk_rows} instead."
        )
    if not source.is_file():
        raise NotFoundError(f"The input file {source} does not exist.")
    columns = _input_columns(source, source_format)
    _check_columns(bundle, source, columns)
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    n_rows = 0
    try:
        with open_writer(target_format, temporary) as writer:
            for chunk in _chunks(source, source_format, chunk_rows):
                scored = _score_chunk(bundle, chunk, writer)
                n_rows += scored
                if progress is not None and scored:
                    progress(scored)
            if n_rows == 0:
                writer.write_empty(_empty_output(bundle, source, source_format))
        os.replace(temporary, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    return BatchResult(n_rows, target, time.perf_counter() - started)


def _format(path: Path) -> str:
    try:
        return _FORMATS[path.suffix.lower()]
    except KeyError:
        raise InvalidInputError(
            f"Cannot score {path.name}: batch scoring reads and writes .csv and .parquet files.",
            hint="Convert the file, or name the output with a .csv or .parquet extension.",
        ) from None


def _input_columns(path: Path, file_format: str) -> list[str]:
    try:
        if file_format == "parquet":
            return list(pq.read_schema(path).names)
        return [str(c) for c in pd.read_csv(path, nrows=0).columns]
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise DataError(f"Cannot read {path}: {exc}") from None


def _check_columns(bundle: ModelBundle, path: Path, columns: list[str]) -> None:
    missing = [c for c in bundle.feature_names if c not in columns]
    if missing:
        raise DataError(
            f"{path.name} is missing {len(missing)} column(s) the model needs: "
            f"{', '.join(missing)}.",
            hint="Score a file with the same columns as the training data.",
        )
    clashing = [c for c in bundle.output_columns if c in columns]
    if clashing:
        raise DataError(
            f"{path.name} already has column(s) named like the model's outputs: "
            f"{', '.join(clashing)}.",
            hint="Rename or drop them first (is this file already scored?).",
        )


def _chunks(
    path: Path, file_format: str, chunk_rows: int
) -> Iterator[pa.RecordBatch | pd.DataFrame]:
    try:
        if file_format == "parquet":
            yield from pq.ParquetFile(path).iter_batches(batch_size=chunk_rows)
        else:
            with pd.read_csv(path, chunksize=chunk_rows) as reader:
                yield from reader
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise DataError(f"Cannot read {path}: {exc}") from None


def _score_chunk(
    bundle: ModelBundle, chunk: pa.RecordBatch | pd.DataFrame, writer: ChunkWriter
) -> int:
    batch = chunk if isinstance(chunk, pa.RecordBatch) else None
    frame = chunk.to_pandas() if isinstance(chunk, pa.RecordBatch) else chunk
    if frame.empty:
        return 0
    try:
        predicted = bundle.predict_frame(frame)
    except (ValueError, TypeError) as exc:
        raise DataError(f"The model cannot score the input: {exc}") from None
    writer.write(frame, predicted, batch)
    return len(frame)


def _empty_output(bundle: ModelBundle, path: Path, file_format: str) -> pa.Schema:
    """The output schema of an input without rows: input columns plus typed output columns."""
    if file_format == "parquet":
        schema = pq.read_schema(path)
    else:
        schema = pa.Schema.from_pandas(pd.read_csv(path, nrows=0), preserve_index=False)
    if bundle.is_classifier:
        label_type = pa.array(list(bundle.classes)).type
        outputs = [pa.field("prediction", label_type)]
        outputs += [pa.field(c, pa.float64()) for c in bundle.output_columns[1:]]
    else:
        outputs = [pa.field("prediction", pa.float64())]
    for field in outputs:
        schema = schema.append(field)
    return schema
