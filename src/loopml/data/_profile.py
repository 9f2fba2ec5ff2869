"""The profile (EDA) of a table: per-column statistics, dataset facts, correlations, warnings.

:func:`profile_frame` makes one pass per column (one sort for numbers, one factorisation for
text), then the correlation matrices in blocks of rows, so memory stays near the size of the
frame. A table in memory is profiled by a few threads (``Columns.workers``: columns side by side,
then Spearman's pairs beside Pearson and Cramér's V); numpy releases the GIL in the sorts and
gathers that dominate. The results do not depend on the number of threads.

The result, :class:`DataProfile`, is a :class:`~loopml.reports.Report`: JSON with
``to_dict``/``to_json``, one self-contained HTML page with ``to_html``, inline in Jupyter.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from loopml.data._contract import ColumnSpec, DataContract
from loopml.data._infer import _looks_datetime, parse_datetimes
from loopml.data._leakage import (
    DataWarning,
    feature_power,
    future_share,
    future_warning,
    id_warning,
    leakage_warning,
    looks_like_id,
    target_task,
    target_warnings,
)
from loopml.data._profile_columns import (
    CategoryColumn,
    NumberColumn,
    category_column,
    number_column,
)
from loopml.data._profile_corr import cramers_matrix, pearson_matrix, spearman_matrix
from loopml.data._profile_facts import RowFacts, column_hashes, column_warnings
from loopml.data._scan import BLOCK_ROWS, Columns, FrameColumns
from loopml.errors import DataError, InvalidInputError
from loopml.reports import Report, to_jsonable

FORMAT = "loopml.profile/1"
Progress = Callable[[str, float], None]


@dataclass(eq=False)
class DataProfile(Report):
    """The profile of one table. ``columns`` maps a column to its kind and statistics;
    ``correlations`` holds ``pearson``/``spearman`` (numbers) and ``cramers_v`` (categories) as
    ``{"columns": [...], "matrix": [[...]]}``; ``target`` the target's task and each feature's
    single-feature predictive power; ``warnings`` one sentence each."""

    title: str
    n_rows: int
    n_columns: int
    memory_bytes: int
    columns: dict[str, dict[str, Any]]
    duplicates: int | None
    missing: dict[str, Any]
    correlations: dict[str, dict[str, Any]]
    target: dict[str, Any] | None
    warnings: list[DataWarning] = field(default_factory=list)
    generated_at: str = field(
        default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds")
    )

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(
            {
                "format": FORMAT,
                "title": self.title,
                "generated_at": self.generated_at,
                "n_rows": self.n_rows,
                "n_columns": self.n_columns,
                "memory_bytes": self.memory_bytes,
                "duplicates": self.duplicates,
                "missing": self.missing,
                "columns": self.columns,
                "correlations": self.correlations,
                "target": self.target,
                "warnings": [w.to_dict() for w in self.warnings],
            }
        )

    def to_html(self) -> str:
        from loopml.data._profile_html import render_profile

        return render_profile(self)


def _all_numbers(series: pd.Series) -> bool:
    """Whether every present value of ``series`` is a number (or a boolean)."""
    if pd.api.types.is_numeric_dtype(series.dtype):
        return True
    converted = pd.to_numeric(series, errors="coerce")
    return bool((converted.notna() | series.isna()).all())


def _kind(series: pd.Series, dtype: str | None) -> str:
    """``number``, ``datetime``, ``boolean``, ``category`` or ``text`` for a column."""
    if dtype in ("integer", "float") and not _all_numbers(series):
        return "category"  # text in a number column (the contract's validation names it)
    if dtype is not None:
        return {"integer": "number", "float": "number", "string": "text"}.get(dtype, dtype)
    if pd.api.types.is_bool_dtype(series.dtype):
        return "boolean"
    if pd.api.types.is_numeric_dtype(series.dtype):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return "datetime"
    values = series.dropna()
    sample = values.iloc[:: max(1, len(values) // 1000)]  # evenly spread, no shuffling cost
    if len(sample) and _looks_datetime(sample.astype(str)):
        return "datetime"
    return "category"


def profile_frame(
    frame: pd.DataFrame,
    *,
    target: str | None = None,
    contract: DataContract | None = None,
    time_column: str | None = None,
    title: str = "Data profile",
    correlations: bool = True,
    progress: Progress | None = None,
) -> DataProfile:
    """Profile ``frame`` (rules in the module docstrings of the ``_profile_*`` modules).

    ``contract`` (optional) gives each column's dtype and role, the target and the time column;
    ``target``/``time_column`` override it. Without a contract, kinds come from the data.
    ``correlations=False`` skips the correlation matrices (the costliest part on wide tables
    with missing values: pairwise Spearman re-ranks each pair's rows).

    Raises:
        DataError: the frame has no rows or no columns, or duplicated column names.
        InvalidInputError: ``target`` or ``time_column`` is not a column of the frame.
    """
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise DataError("Cannot profile a table with no rows or no columns.")
    names = [str(c) for c in frame.columns]
    if len(set(names)) != len(names):
        duplicated = sorted({n for n in names if names.count(n) > 1})
        raise DataError(f"The table has duplicated column names: {', '.join(duplicated)}.")
    return profile_columns(
        FrameColumns(frame.set_axis(names, axis=1)),
        target=target,
        contract=contract,
        time_column=time_column,
        title=title,
        correlations=correlations,
        progress=progress,
    )


def profile_columns(
    table: Columns,
    *,
    target: str | None = None,
    contract: DataContract | None = None,
    time_column: str | None = None,
    title: str = "Data profile",
    correlations: bool = True,
    progress: Progress | None = None,
) -> DataProfile:
    """Profile a table read a column (or a block of rows) at a time: what
    :func:`profile_frame` does, for a frame in memory or a file too big to load
    (:class:`~loopml.data._scan.ParquetColumns`); the statistics are the same either way.

    Raises:
        InvalidInputError: ``target`` or ``time_column`` is not a column of the table.
    """
    names = table.names
    target = target or (contract.target if contract else None)
    time_spec = contract.time_column if contract else None
    time_column = time_column or (time_spec.name if time_spec else None)
    for given, what in ((target, "target"), (time_column, "time")):
        if given is not None and given not in names:
            raise InvalidInputError(f"The {what} column {given!r} is not in the data.")
    report = progress or (lambda step, fraction: None)
    specs = {c.name: c for c in contract.columns} if contract else {}
    n_rows = table.n_rows
    target_series = table.column(target) if target else None
    time_series = table.column(time_column) if time_column else None
    task = target_task(target_series) if target_series is not None else None
    columns: dict[str, dict[str, Any]] = {}
    numbers: list[NumberColumn] = []
    categories: list[CategoryColumn] = []
    found: list[DataWarning] = []
    powers: dict[str, dict[str, Any]] = {}
    memory_bytes = 0
    missing: dict[str, int] = {}
    facts = RowFacts(n_rows)
    with ThreadPoolExecutor(table.workers) as pool:
        # Columns are profiled side by side (at most ``workers`` in flight); the dataset-level
        # facts and warnings follow in column order here.
        work = partial(_profile_column, table, specs, facts)
        done = _in_order(pool, table, work, table.workers)
        for index, (series, kind, parsed, column, hashes) in enumerate(done):
            name = names[index]
            report(f"column {name}", 0.8 * index / len(names))
            memory_bytes += int(series.memory_usage(index=False, deep=True))
            spec = specs.get(name)
            role = spec.role if spec else ("target" if name == target else "feature")
            if isinstance(column, NumberColumn) and kind == "number":
                numbers.append(column)
            elif isinstance(column, CategoryColumn):
                categories.append(column)
            stats = _datetime_stats(column.stats) if kind == "datetime" else column.stats
            columns[name] = {"kind": kind, "role": role, **stats}
            # Unparseable dates count as missing in a datetime column's statistics, not here.
            missing[name] = int(series.isna().sum()) if kind == "datetime" else stats["missing"]
            facts.add(name, series, missing[name], hashes, unique=_unique(stats, n_rows))
            found += column_warnings(name, kind, stats)
            if role not in ("feature", "text") or name == target:
                continue
            is_float = kind == "number" and not pd.api.types.is_integer_dtype(series.dtype)
            if kind != "datetime" and looks_like_id(
                stats["distinct"], stats["count"], n_rows, is_float
            ):
                found.append(id_warning(name))
            elif target_series is not None and task is not None and kind != "datetime":
                ranks = numbers[-1].ranks if kind == "number" else None
                power = feature_power(series, target_series, task, ranks=ranks)
                if power is not None:
                    powers[name] = {"measure": power[0], "value": power[1]}
                    warning = leakage_warning(name, str(target), *power)
                    found += [warning] if warning else []
            if parsed is not None and time_series is not None and name != time_column:
                share = future_share(parsed, time_series)
                warning = future_warning(name, str(time_column), share)
                found += [warning] if warning else []
            del series, parsed, hashes
    report("correlations", 0.8)
    matrices = _correlations(table, numbers, categories) if correlations else {}
    report("duplicates and missing values", 0.95)
    duplicates = facts.duplicate_rows()
    if duplicates:
        found.append(
            DataWarning(
                "duplicates",
                None,
                f"{duplicates} rows are exact duplicates of another row; drop them unless "
                "repeats are real events.",
            )
        )
    if target_series is not None:
        found += target_warnings(target_series, task)
    report("done", 1.0)
    return DataProfile(
        title=title,
        n_rows=n_rows,
        n_columns=len(names),
        memory_bytes=memory_bytes,
        columns=columns,
        duplicates=duplicates,
        missing=facts.missing_patterns(names, missing),
        correlations=matrices,
        target=None if target is None else {"column": target, "task": task, "features": powers},
        warnings=found,
    )


Analysed = tuple[pd.Series, str, pd.Series | None, NumberColumn | CategoryColumn, np.ndarray | None]
"""A column, its kind, its parsed dates (datetime columns), its statistics and the hash of each
value (None when its values cannot be hashed, or need not be: no row repeats)."""


def _profile_column(
    table: Columns, specs: dict[str, ColumnSpec], facts: RowFacts, name: str, series: pd.Series
) -> Analysed:
    """The statistics of column ``name`` of ``table`` (``series``); safe in a worker thread when
    ``table.workers > 1``. Values are not hashed once ``facts`` knows no row repeats, or when
    this column alone shows it (every value distinct)."""
    spec = specs.get(name)
    kind = _kind(series, spec.dtype if spec else None)
    parsed = None
    column: NumberColumn | CategoryColumn
    if kind == "datetime":
        parsed = series if pd.api.types.is_datetime64_any_dtype(series.dtype) else None
        parsed = parse_datetimes(series) if parsed is None else parsed
        column = number_column(name, parsed)
    elif kind == "number":
        column = number_column(name, series, keep=table.keep)
    else:
        column = category_column(name, series, keep=table.keep)
    if facts.all_distinct or _unique(column.stats, len(series)):
        return series, kind, parsed, column, None
    codes = column.codes if isinstance(column, CategoryColumn) else None
    return series, kind, parsed, column, column_hashes(series, codes)


def _unique(stats: dict[str, Any], n_rows: int) -> bool:
    """Whether a column's values are all present and all different (then no row repeats)."""
    return bool(stats["count"] == n_rows and stats["distinct"] == n_rows)


def _in_order(
    pool: ThreadPoolExecutor,
    table: Columns,
    work: Callable[[str, pd.Series], Analysed],
    ahead: int,
) -> Iterator[Analysed]:
    """``work`` of each column of ``table`` (read here, in the calling thread), in order, with
    at most ``ahead`` computed ahead in ``pool`` (inline when ``ahead`` is 1), so only that many
    columns are in flight at once."""
    if ahead <= 1:
        yield from (work(name, table.column(name)) for name in table.names)
        return
    pending: deque[Future[Analysed]] = deque()
    for name in table.names:
        pending.append(pool.submit(work, name, table.column(name)))
        if len(pending) > ahead:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _correlations(
    table: Columns, numbers: list[NumberColumn], categories: list[CategoryColumn]
) -> dict[str, dict[str, Any]]:
    labels = [c.name for c in numbers]

    def pearson_and_cramers() -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        if len(numbers) >= 2:
            blocks = table.blocks(labels, BLOCK_ROWS // 2)
            found["pearson"] = {"columns": labels, "matrix": pearson_matrix(blocks, numbers)}
        names, matrix = cramers_matrix(categories)
        if len(names) >= 2:
            found["cramers_v"] = {"columns": names, "matrix": matrix}
        return found

    spearman: dict[str, dict[str, Any]] = {}
    # The products are small (columns x columns over blocks of rows): BLAS threads only add
    # contention, which on a busy machine costs several times the work itself. With threads,
    # Pearson and Cramér's V run beside Spearman's pairs.
    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(1) as side:
        beside = side.submit(pearson_and_cramers) if table.workers > 1 else None
        if len(numbers) >= 2:
            matrix = spearman_matrix(numbers, table.n_rows, workers=table.workers)
            spearman["spearman"] = {"columns": labels, "matrix": matrix}
        others = beside.result() if beside is not None else pearson_and_cramers()
    order = ("pearson", "spearman", "cramers_v")
    both = {**others, **spearman}
    return {key: both[key] for key in order if key in both}


def _datetime_stats(stats: dict[str, Any]) -> dict[str, Any]:
    """Number statistics of nanosecond timestamps, as dates (ISO 8601)."""

    def iso(value: float) -> str:
        return pd.Timestamp(int(value), unit="ns", tz="UTC").isoformat()

    kept = {k: stats[k] for k in ("count", "missing", "missing_share", "distinct")}
    if stats["count"]:
        kept["min"], kept["max"] = iso(stats["min"]), iso(stats["max"])
        edges = stats["histogram"]["edges"]
        kept["histogram"] = {
            "edges": [iso(e) for e in edges],
            "counts": stats["histogram"]["counts"],
        }
    return kept
