"""Batch scoring: rows streamed in chunks from a file or a query, checked against the contract,
scored, and written to a file or a table, with bounded memory.

The output holds the input's columns followed by the model's output columns (``prediction`` and,
for classifiers, ``probability_<class>``). Rows breaking a row-level check of the contract are
set aside with their reasons (``on_invalid="quarantine"``), scored anyway (``"warn"``) or stop
the job (``"fail"``). Files are written to temporary names next to their destinations and
renamed into place only once every chunk is scored, and tables are written in one transaction,
so a failure never leaves a half-written output behind.

Reading the next chunk, scoring the current one and writing the previous one overlap: Parquet
decoding, LightGBM and Parquet encoding release the GIL, so two cores stay busy. At most
``chunk_rows`` rows sit in each of the three stages.
"""

from __future__ import annotations

import collections
import contextlib
import os
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd
import pyarrow as pa

from loopml.data._report import REASON_COLUMN
from loopml.errors import DataError, InvalidInputError
from loopml.serve._batch_checks import ContractChecks
from loopml.serve._batch_io import ChunkWriter, open_writer
from loopml.serve._batch_scorer import BatchScorer
from loopml.serve._batch_sources import (
    Chunk,
    ChunkSource,
    file_format,
    file_source,
    prefetched,
    sql_source,
)
from loopml.serve._batch_sql import (
    describe_target,
    is_sqlite,
    opened_table_writer,
    spooled_query,
)
from loopml.train._bundle import ModelBundle

OnInvalid = Literal["quarantine", "warn", "fail"]
ON_INVALID: tuple[str, ...] = ("quarantine", "warn", "fail")
DEFAULT_CHUNK_ROWS = 100_000


@dataclass(frozen=True)
class BatchResult:
    """What a batch scoring job did.

    Attributes:
        n_rows: rows scored and written to the output.
        output_path: the output file (None for a table output).
        seconds: wall time of the whole job.
        output: the output, in words (the file path, or ``URL#table``).
        n_quarantined: rows set aside because they break the contract.
        quarantine: where they went (a file path or ``URL#table``; None when there were none).
        violations: rows failing each ``"column: check"`` (with ``warn``, they were scored).
    """

    n_rows: int
    output_path: Path | None
    seconds: float
    output: str = ""
    n_quarantined: int = 0
    quarantine: str | None = None
    violations: dict[str, int] = field(default_factory=dict)


def quarantine_path(output: Path) -> Path:
    """Where the quarantined rows of ``output`` go: ``<stem>.quarantine<suffix>`` beside it."""
    return output.with_name(f"{output.stem}.quarantine{output.suffix}")


def quarantine_table(table: str) -> str:
    """The table receiving the quarantined rows of ``table``: ``<table>_quarantine``."""
    return f"{table}_quarantine"


def score_file(
    bundle: ModelBundle,
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: Callable[[int], None] | None = None,
    on_invalid: OnInvalid = "quarantine",
    keep: Sequence[str] | None = None,
) -> BatchResult:
    """Score every row of a CSV or Parquet file into a CSV or Parquet file.

    Formats follow the extensions (``.csv``, ``.parquet``/``.pq``); input and output formats may
    differ. Quarantined rows go to :func:`quarantine_path` of the output (same format, input
    columns plus ``_loopml_reason``), written only when there are some.

    Args:
        progress: called after each chunk with the number of rows it held.
        on_invalid: what to do with rows breaking the contract (see the module docstring).
        keep: the input columns copied into the output, in this order (default: all of them;
            empty: none, only the model's outputs). Quarantined rows keep every column.

    Raises:
        NotFoundError: the input file does not exist.
        InvalidInputError: an extension, ``chunk_rows`` or ``on_invalid`` is not supported, or
            ``keep`` names a column the input does not have.
        DataError: the input lacks a model input column or already has an output column (raised
            before anything is written), a row breaks the contract under ``fail``, or the input
            cannot be read or scored; existing outputs are left as they were.
    """
    _check_options(chunk_rows, on_invalid)
    return score_stream(
        bundle,
        file_source(Path(input_path)),
        _file_target(Path(output_path)),
        chunk_rows=chunk_rows,
        progress=progress,
        on_invalid=on_invalid,
        keep=keep,
    )


def score_to_table(
    bundle: ModelBundle,
    url: str,
    table: str,
    *,
    input_path: str | os.PathLike[str] | None = None,
    query: str | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: Callable[[int], None] | None = None,
    on_invalid: OnInvalid = "quarantine",
    keep: Sequence[str] | None = None,
) -> BatchResult:
    """Score a file (``input_path``) or the result of ``query`` on ``url`` into ``table`` there.

    Rows are appended to ``table`` (created when missing) and quarantined rows to
    :func:`quarantine_table`, all in one transaction. A SQLite query is first copied into a
    temporary Parquet file (SQLite cannot commit while another connection reads).

    Raises:
        InvalidInputError: not exactly one of ``input_path`` and ``query``.
        DataError: as :func:`score_file`; also when ``table`` exists without a column of the
            output, or the database cannot be reached; the tables are left as they were.
    """
    if (input_path is None) == (query is None):
        raise InvalidInputError(
            "Score either a file or a query into a table, not both or neither.",
            hint="Pass --input PATH or --query SQL together with --sql URL.",
        )
    _check_options(chunk_rows, on_invalid)
    target = _table_target(url, table)

    def run(source: ChunkSource) -> BatchResult:
        return score_stream(
            bundle,
            source,
            target,
            chunk_rows=chunk_rows,
            progress=progress,
            on_invalid=on_invalid,
            keep=keep,
        )

    if input_path is not None:
        return run(file_source(Path(input_path)))
    if not is_sqlite(url):
        return run(sql_source(url, query or ""))
    _check_columns(bundle, sql_source(url, query or ""))
    with spooled_query(url, query or "", chunk_rows) as spooled:
        return run(file_source(spooled))


def score_query_to_file(
    bundle: ModelBundle,
    url: str,
    query: str,
    output_path: str | os.PathLike[str],
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: Callable[[int], None] | None = None,
    on_invalid: OnInvalid = "quarantine",
    keep: Sequence[str] | None = None,
) -> BatchResult:
    """Score the result of ``query`` on ``url`` into a CSV or Parquet file (see
    :func:`score_file`)."""
    _check_options(chunk_rows, on_invalid)
    return score_stream(
        bundle,
        sql_source(url, query),
        _file_target(Path(output_path)),
        chunk_rows=chunk_rows,
        progress=progress,
        on_invalid=on_invalid,
        keep=keep,
    )


Writers = tuple[ChunkWriter, Callable[[], ChunkWriter]]
"""The output writer, and a factory of the quarantine writer (called on the first bad row)."""


@dataclass(frozen=True)
class Target:
    """Where scored rows go: ``open()`` yields the output writer and a factory of the
    quarantine writer; the context commits only when its block ends without an error."""

    output: str
    output_path: Path | None
    quarantine: str
    open: Callable[[], contextlib.AbstractContextManager[Writers]]


def _file_target(path: Path) -> Target:
    kind = file_format(path)
    side = quarantine_path(path)

    @contextlib.contextmanager
    def opened() -> Iterator[Writers]:
        with contextlib.ExitStack() as stack:
            renames: list[tuple[Path, Path]] = []

            def temporary(final: Path) -> Path:
                name = final.with_name(f".{final.name}.{uuid.uuid4().hex}.tmp")
                stack.callback(lambda: name.unlink(missing_ok=True))
                renames.append((name, final))
                return name

            writers: list[ChunkWriter] = []

            def quarantine() -> ChunkWriter:
                writer = stack.enter_context(open_writer(kind, temporary(side)))
                writers.append(writer)
                return writer

            main = open_writer(kind, temporary(path))
            with main as writer:
                yield writer, quarantine
            for extra in writers:
                extra.close()
            for name, final in renames:
                os.replace(name, final)

    return Target(str(path), path, str(side), opened)


def _table_target(url: str, table: str) -> Target:
    side = quarantine_table(table)

    @contextlib.contextmanager
    def opened() -> Iterator[Writers]:
        with opened_table_writer(url, table) as writer:
            yield writer, lambda: writer.sibling(side)
            writer.commit()

    return Target(describe_target(url, table), None, describe_target(url, side), opened)


def score_stream(
    bundle: ModelBundle,
    source: ChunkSource,
    target: Target,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: Callable[[int], None] | None = None,
    on_invalid: OnInvalid = "quarantine",
    keep: Sequence[str] | None = None,
) -> BatchResult:
    """Score ``source`` into ``target`` (the functions above build both)."""
    started = time.perf_counter()
    _check_options(chunk_rows, on_invalid)
    _check_columns(bundle, source)
    kept = _kept_columns(keep, source)
    checks = ContractChecks(bundle.contract)
    job = _Job(bundle, checks, on_invalid, progress, source.read_as_dictionary, kept)
    with target.open() as (writer, quarantine), ThreadPoolExecutor(1) as io:
        job.run(prefetched(source.read(chunk_rows)), writer, quarantine, io)
        if job.n_rows == 0:
            schema = source.empty_schema()
            if kept is not None:
                schema = pa.schema([schema.field(name) for name in kept])
            writer.write_empty(_empty_output(bundle, schema))
    return BatchResult(
        n_rows=job.n_rows,
        output_path=target.output_path,
        seconds=time.perf_counter() - started,
        output=target.output,
        n_quarantined=job.n_quarantined,
        quarantine=target.quarantine if job.n_quarantined else None,
        violations=dict(job.violations),
    )


class _Job:
    """The scoring loop of one :func:`score_stream` call, with its running counts."""

    def __init__(
        self,
        bundle: ModelBundle,
        checks: ContractChecks,
        on_invalid: OnInvalid,
        progress: Callable[[int], None] | None,
        plain_types: dict[str, pa.DataType],
        kept: list[str] | None = None,
    ) -> None:
        self.bundle, self.checks, self.on_invalid, self.progress = (
            bundle,
            checks,
            on_invalid,
            progress,
        )
        self.plain_types = plain_types  # columns read as dictionaries, written back as these
        self.kept = kept  # the input columns written to the output (None: all)
        self.scorer = BatchScorer(bundle)
        self.n_rows = 0
        self.n_quarantined = 0
        self.violations: collections.Counter[str] = collections.Counter()

    def run(
        self,
        chunks: Iterator[Chunk],
        writer: ChunkWriter,
        quarantine: Callable[[], ChunkWriter],
        io: ThreadPoolExecutor,
    ) -> None:
        pending: Future[None] | None = None
        side: ChunkWriter | None = None
        for chunk in chunks:
            n = chunk.num_rows if isinstance(chunk, pa.RecordBatch) else len(chunk)
            if n == 0:
                continue
            verdict = self.checks.check(chunk)
            self.violations.update(verdict.counts)
            good = chunk
            if verdict.n_bad:
                if self.on_invalid == "fail":
                    raise DataError(
                        f"{verdict.n_bad} row(s) of a chunk break the data contract, e.g. "
                        f"row {self.n_rows + self.n_quarantined + int(verdict.rows[0])}: "
                        f"{verdict.reasons[0]}.",
                        hint="Fix the rows, or score with on_invalid quarantine or warn.",
                    )
                if self.on_invalid == "quarantine":
                    bad, good = _take(chunk, verdict.rows), _drop(chunk, verdict.bad)
                    side = side or quarantine()
                    reasons = pd.DataFrame({REASON_COLUMN: verdict.reasons})
                    pending = _after(pending, io, side, bad, reasons, None, self.plain_types)
                    self.n_quarantined += verdict.n_bad
            frame, predicted = self._score(good)
            if len(frame):
                rows, kept = (frame, good) if self.kept is None else _select(frame, good, self.kept)
                pending = _after(pending, io, writer, rows, predicted, kept, self.plain_types)
            self.n_rows += len(frame)
            if self.progress is not None:
                self.progress(n)
        if pending is not None:
            pending.result()

    def _score(self, chunk: Chunk) -> tuple[pd.DataFrame, pd.DataFrame]:
        # Only the model's columns become pandas here; writers take the rest from Arrow.
        if isinstance(chunk, pa.RecordBatch):
            frame = chunk.select(self.bundle.feature_names).to_pandas()
        else:
            frame = chunk
        if frame.empty:
            return frame, pd.DataFrame(columns=self.bundle.output_columns)
        try:
            return frame, self.scorer.predict(frame)
        except (ValueError, TypeError) as exc:
            raise DataError(f"The model cannot score the input: {exc}") from None


def _after(
    pending: Future[None] | None,
    io: ThreadPoolExecutor,
    writer: ChunkWriter,
    frame: pd.DataFrame | Chunk,
    predicted: pd.DataFrame,
    chunk: Chunk | None = None,
    plain_types: dict[str, pa.DataType] | None = None,
) -> Future[None]:
    """Queue a write once the previous one is done (so at most one chunk waits to be written).

    Arrow chunks are handed over as they are: the writer thread converts what it needs, and
    turns the columns of ``plain_types`` (read as dictionaries) back into their own type."""
    if pending is not None:
        pending.result()
    source = chunk if chunk is not None else frame
    if isinstance(source, pa.RecordBatch):
        batch = source
        return io.submit(lambda: writer.write(None, predicted, _plain(batch, plain_types or {})))
    assert isinstance(frame, pd.DataFrame)
    return io.submit(writer.write, frame, predicted, None)


def _plain(batch: pa.RecordBatch, types: dict[str, pa.DataType]) -> pa.RecordBatch:
    """``batch`` with the columns of ``types`` decoded from dictionaries to those types."""
    columns = list(batch.columns)
    changed = False
    for i, column in enumerate(batch.schema):
        kind = types.get(column.name)
        if kind is not None and pa.types.is_dictionary(column.type):
            columns[i] = columns[i].dictionary_decode().cast(kind)
            changed = True
    if not changed:
        return batch
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


def _take(chunk: Chunk, rows: object) -> Chunk:
    if isinstance(chunk, pa.RecordBatch):
        return chunk.take(pa.array(rows))
    return chunk.iloc[rows].reset_index(drop=True)  # type: ignore[call-overload]


def _drop(chunk: Chunk, bad: object) -> Chunk:
    if isinstance(chunk, pa.RecordBatch):
        return chunk.filter(pa.array(~bad))  # type: ignore[operator]
    return chunk.loc[~bad].reset_index(drop=True)  # type: ignore[operator]


def _check_options(chunk_rows: int, on_invalid: str) -> None:
    if chunk_rows <= 0:
        raise InvalidInputError(
            f"The 'chunk_rows' parameter of score_file must be positive. Got {chunk_rows} instead."
        )
    if on_invalid not in ON_INVALID:
        raise InvalidInputError(
            f"The 'on_invalid' parameter must be one of {', '.join(ON_INVALID)}. "
            f"Got {on_invalid!r} instead."
        )


def _kept_columns(keep: Sequence[str] | None, source: ChunkSource) -> list[str] | None:
    """``keep`` without repeats, checked against the input's columns (None: keep them all).

    Raises:
        InvalidInputError: ``keep`` names a column the input does not have.
    """
    if keep is None:
        return None
    kept = list(dict.fromkeys(keep))
    unknown = [name for name in kept if name not in source.columns]
    if unknown:
        shown = ", ".join(source.columns[:20]) + (", ..." if len(source.columns) > 20 else "")
        raise InvalidInputError(
            f"{source.name} has no column(s) {', '.join(map(repr, unknown))} to keep in the "
            f"output; it has: {shown}.",
            hint="Name input columns in --keep, comma-separated, or leave it out to keep all.",
        )
    return kept


def _select(frame: pd.DataFrame, chunk: Chunk, kept: list[str]) -> tuple[pd.DataFrame, Chunk]:
    """The rows to write with only the ``kept`` input columns (an Arrow chunk stays Arrow)."""
    if isinstance(chunk, pa.RecordBatch):
        return frame, chunk.select(kept)
    selected = chunk[kept]
    return selected, selected


def _check_columns(bundle: ModelBundle, source: ChunkSource) -> None:
    missing = [c for c in bundle.feature_names if c not in source.columns]
    if missing:
        raise DataError(
            f"{source.name} is missing {len(missing)} column(s) the model needs: "
            f"{', '.join(missing)}.",
            hint="Score a file with the same columns as the training data.",
        )
    clashing = [c for c in [*bundle.output_columns, REASON_COLUMN] if c in source.columns]
    if clashing:
        raise DataError(
            f"{source.name} already has column(s) named like the model's outputs: "
            f"{', '.join(clashing)}.",
            hint="Rename or drop them first (is this file already scored?).",
        )


def _empty_output(bundle: ModelBundle, schema: pa.Schema) -> pa.Schema:
    """The output schema of an input without rows: input columns plus typed output columns."""
    if bundle.is_classifier:
        label_type = pa.array(list(bundle.classes)).type
        outputs = [pa.field("prediction", label_type)]
        outputs += [pa.field(c, pa.float64()) for c in bundle.output_columns[1:]]
    else:
        outputs = [pa.field("prediction", pa.float64())]
        outputs += [pa.field(c, pa.float64()) for c in bundle.output_columns[1:]]
    for output in outputs:
        schema = schema.append(output)
    return schema
