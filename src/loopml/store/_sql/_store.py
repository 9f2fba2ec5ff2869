"""The SQL metadata store: one database, one sub-store per noun."""

from __future__ import annotations

import sqlalchemy as sa

from loopml.errors import InvalidInputError
from loopml.store._base import MetadataStore
from loopml.store._sql._alerts import SqlAlertStore
from loopml.store._sql._audit import SqlAuditLog
from loopml.store._sql._database import Database
from loopml.store._sql._datasets import SqlDatasetStore
from loopml.store._sql._deployments import SqlDeploymentStore
from loopml.store._sql._migrate import upgrade
from loopml.store._sql._models import SqlModelStore
from loopml.store._sql._monitoring import SqlMonitorStore
from loopml.store._sql._predictions import SqlPredictionStore
from loopml.store._sql._runs import SqlRunStore


class SqlMetadataStore(MetadataStore):
    """A :class:`MetadataStore` on SQLite or PostgreSQL through SQLAlchemy.

    Opening migrates the database to the current schema (a single read when it already is).

    Args:
        url: a SQLAlchemy URL, e.g. ``sqlite:///path/loopml.db`` or
            ``postgresql+psycopg://user:pw@host/db``.

    Raises:
        InvalidInputError: ``url`` is not a valid SQLAlchemy URL.
        StoreError: the database cannot be reached or holds an unknown newer schema.
    """

    def __init__(self, url: str | sa.URL) -> None:
        try:
            parsed = sa.make_url(url)
        except sa.exc.ArgumentError as error:
            raise InvalidInputError(
                f"{url!r} is not a valid database URL.",
                hint="Use e.g. sqlite:///path/to/loopml.db or postgresql://user@host/db.",
            ) from error
        self._db = Database(parsed)
        try:
            upgrade(self._db)
        except BaseException:
            self._db.dispose()
            raise
        self.datasets = SqlDatasetStore(self._db)
        self.runs = SqlRunStore(self._db)
        self.models = SqlModelStore(self._db)
        self.audit = SqlAuditLog(self._db)
        self.deployments = SqlDeploymentStore(self._db)
        self.predictions = SqlPredictionStore(self._db)
        self.monitoring = SqlMonitorStore(self._db)
        self.alerts = SqlAlertStore(self._db)

    @property
    def url(self) -> str:
        return self._db.masked_url

    @property
    def engine(self) -> sa.Engine:
        """The SQLAlchemy engine (for diagnostics and tests; the sub-stores are the API)."""
        return self._db.engine

    def close(self) -> None:
        self._db.dispose()

    def __repr__(self) -> str:
        return f"SqlMetadataStore({self.url!r})"
