"""``loopml ingest``: read the data source into an immutable, content-hashed DatasetVersion."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from loopml.data import (
    describe_duckdb,
    describe_source,
    infer_contract,
    read_duckdb,
    read_snapshot,
    to_snapshot_bytes,
)
from loopml.data import (
    read_source as read_location,
)
from loopml.errors import DataError, InvalidInputError, NotFoundError
from loopml.project._project import Project, user_path
from loopml.store import DatasetVersion


def read_source(
    project: Project,
    data: str | Path | None = None,
    *,
    url: str | None = None,
    query: str | None = None,
    table: str | None = None,
    duckdb: str | None = None,
) -> tuple[pd.DataFrame, dict]:
    """The frame of ``data`` (a file), of the database ``url`` (with ``query`` or ``table``), of
    the ``duckdb`` query over files (relative paths from the current directory), or of the
    charter's source (relative paths from the project folder), with its description.

    Raises:
        InvalidInputError: more than one of a file, a database URL and a DuckDB query is given.
    """
    if sum(x is not None for x in (data, url, duckdb)) > 1:
        raise InvalidInputError(
            "Give one source: a data file, a database URL or a DuckDB query.",
            hint="Use --data FILE, --sql URL with --query/--table, or --duckdb 'SELECT …'.",
        )
    location: str | Path
    fmt: str | None = None
    if duckdb is not None:
        return read_duckdb(duckdb), describe_duckdb(duckdb)
    if url is not None:
        location = url
    elif data is not None:
        location, query, table = user_path(data), None, None
    else:
        source = project.charter.data
        if source.duckdb:
            root = project.paths.root
            return read_duckdb(source.duckdb, base_dir=root), describe_duckdb(
                source.duckdb, base_dir=root
            )
        location = project.paths.resolve(source.path) if source.path else str(source.url)
        query, table, fmt = source.query, source.table, source.format
    frame = read_location(location, query=query, table=table, format=fmt)
    return frame, describe_source(location, query=query, table=table, format=fmt)


def ingest(
    project: Project,
    data: str | Path | None = None,
    *,
    frame: pd.DataFrame | None = None,
    source: dict | None = None,
    parent_id: str | None = None,
    append: bool = False,
    url: str | None = None,
    query: str | None = None,
    table: str | None = None,
    duckdb: str | None = None,
) -> DatasetVersion:
    """Snapshot ``data`` (default: the charter's source; or the database ``url`` with ``query``
    or ``table``; or the ``duckdb`` query over files) as a DatasetVersion.

    Identical content returns the existing version. The snapshot is written to the artifact store
    before its metadata, so a failure leaves no record pointing at missing bytes. Writes
    ``contract.yaml`` the first time, inferred from this data. With ``append``, the new rows are
    added to the newest version's rows, making a version whose parent is that one.

    Raises:
        NotFoundError: ``append`` with no version to append to.
        DataError: the source cannot be read, or appended rows do not have the same columns.
    """
    if frame is None:
        frame, source = read_source(project, data, url=url, query=query, table=table, duckdb=duckdb)
    if append:
        frame, source, parent_id = _append_to_latest(project, frame, source or {})
    snapshot = to_snapshot_bytes(frame)
    # The content hash is the SHA-256 of the canonical snapshot, i.e. the artifact's digest.
    version_hash = project.artifacts.put_bytes(snapshot)
    version = project.store.datasets.add(
        DatasetVersion(
            id=version_hash[:12],
            project=project.name,
            content_hash=version_hash,
            artifact=version_hash,
            n_rows=len(frame),
            n_columns=frame.shape[1],
            source=source or {"kind": "frame"},
            schema={str(c): str(t) for c, t in frame.dtypes.items()},
            parent_id=parent_id,
        )
    )
    if not project.paths.contract.is_file():
        charter = project.charter
        contract = infer_contract(
            frame,
            target=charter.target,
            sensitive=charter.columns.sensitive,
            ignore=charter.columns.ignore,
            id_columns=charter.columns.id,
            time_column=charter.time_column,
        )
        contract.to_yaml(project.paths.contract)
    return version


def _append_to_latest(
    project: Project, batch: pd.DataFrame, source: dict
) -> tuple[pd.DataFrame, dict, str]:
    parent = project.store.datasets.latest(project.name)
    if parent is None:
        raise NotFoundError(
            "There is no dataset version to append to.",
            hint="Run `loopml ingest` first, then `loopml ingest --append FILE`.",
        )
    _, previous = load_dataset(project, parent.id)
    old, new = [str(c) for c in previous.columns], [str(c) for c in batch.columns]
    missing, extra = [c for c in old if c not in new], [c for c in new if c not in old]
    if missing or extra:
        parts = [f"missing {', '.join(missing)}"] if missing else []
        parts += [f"unexpected {', '.join(extra)}"] if extra else []
        raise DataError(
            f"The appended rows do not have the columns of dataset version {parent.id}: "
            + "; ".join(parts)
            + ".",
            hint="Append a batch with exactly the same columns (any order).",
        )
    combined = pd.concat([previous, batch[old]], ignore_index=True)
    return combined, {"kind": "append", "parent": parent.id, "batch": source}, parent.id


def latest_or_ingest(project: Project) -> DatasetVersion:
    """The newest DatasetVersion, ingesting the charter's source first when there is none."""
    return project.store.datasets.latest(project.name) or ingest(project)


def load_dataset(
    project: Project, version_id: str | None = None
) -> tuple[DatasetVersion, pd.DataFrame]:
    """A dataset version (default: the newest, ingested first if needed) and its frame.

    Raises:
        NotFoundError: ``version_id`` matches no version.
    """
    if version_id is None:
        version = latest_or_ingest(project)
    else:
        version = project.store.datasets.get(project.name, version_id)
    try:
        data = project.artifacts.get_bytes(version.artifact)
    except NotFoundError as exc:
        raise NotFoundError(
            f"The snapshot of dataset version {version.id} is missing from the artifact store.",
            hint="Ingest the data again with `loopml ingest`.",
        ) from exc
    return version, read_snapshot(data)
