"""Dataset versions in SQL."""

from __future__ import annotations

from dataclasses import replace

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from loopml.errors import AlreadyExistsError, NotFoundError
from loopml.store._base import DatasetStore
from loopml.store._records import DatasetVersion
from loopml.store._sql._common import preview, to_utc
from loopml.store._sql._database import Database
from loopml.store._sql._tables import datasets

_COLUMNS = (
    "id",
    "project",
    "content_hash",
    "artifact",
    "n_rows",
    "n_columns",
    "source",
    "schema",
    "parent_id",
    "created_at",
)


def _to_record(row: sa.Row[tuple[object, ...]]) -> DatasetVersion:
    return DatasetVersion(**{name: getattr(row, name) for name in _COLUMNS})


class SqlDatasetStore(DatasetStore):
    """:class:`DatasetStore` over the ``datasets`` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, version: DatasetVersion) -> DatasetVersion:
        try:
            return self._db.write(lambda conn: self._add(conn, version))
        except AlreadyExistsError:
            # Another writer stored the same content between our check and our insert.
            return self._db.read(lambda conn: self._add(conn, version, insert=False))

    def _add(
        self, conn: Connection, version: DatasetVersion, *, insert: bool = True
    ) -> DatasetVersion:
        row = conn.execute(
            sa.select(datasets).where(
                datasets.c.project == version.project,
                datasets.c.content_hash == version.content_hash,
            )
        ).one_or_none()
        if row is not None:
            return _to_record(row)
        clash = conn.execute(
            sa.select(datasets.c.content_hash).where(
                datasets.c.project == version.project, datasets.c.id == version.id
            )
        ).scalar()
        if clash is not None or not insert:
            raise AlreadyExistsError(
                f"Dataset version id {version.id!r} of project {version.project!r} is already "
                f"used by content {clash} (new content {version.content_hash}).",
                hint="Dataset ids are content-hash prefixes; derive the id from the content hash.",
            )
        stored = replace(version, created_at=to_utc(version.created_at))
        conn.execute(sa.insert(datasets).values({n: getattr(stored, n) for n in _COLUMNS}))
        return stored

    def get(self, project: str, version_id: str) -> DatasetVersion:
        return self._db.read(lambda conn: self._get(conn, project, version_id))

    def _get(self, conn: Connection, project: str, version_id: str) -> DatasetVersion:
        rows = conn.execute(
            sa.select(datasets)
            .where(
                datasets.c.project == project,
                datasets.c.id.startswith(version_id, autoescape=True),
            )
            .order_by(datasets.c.id)
            .limit(2)
        ).all()
        exact = [row for row in rows if row.id == version_id]
        if len(rows) == 1 or exact:
            return _to_record(exact[0] if exact else rows[0])
        known = conn.execute(
            sa.select(datasets.c.id)
            .where(datasets.c.project == project)
            .order_by(datasets.c.created_at.desc())
        ).scalars()
        if rows:
            message = f"Dataset version prefix {version_id!r} of project {project!r} is ambiguous."
        else:
            message = f"Project {project!r} has no dataset version {version_id!r}."
        raise NotFoundError(
            message,
            hint=f"Known versions (newest first): {preview(list(known))}.",
        )

    def list(self, project: str) -> list[DatasetVersion]:
        def work(conn: Connection) -> list[DatasetVersion]:
            rows = conn.execute(
                sa.select(datasets)
                .where(datasets.c.project == project)
                .order_by(datasets.c.created_at, datasets.c.id)
            )
            return [_to_record(row) for row in rows]

        return self._db.read(work)
