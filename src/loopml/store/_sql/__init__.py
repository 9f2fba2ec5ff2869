"""The SQLAlchemy implementation of the metadata store (SQLite and PostgreSQL)."""

from loopml.store._sql._store import SqlMetadataStore

__all__ = ["SqlMetadataStore"]
