"""Bring a database's schema to the current Alembic head, cheaply when it already is there."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from loopml.errors import StoreError
from loopml.store._sql._database import Database

if TYPE_CHECKING:
    from alembic.config import Config

HEAD_REVISION = "0004"
"""The newest migration in ``loopml/store/migrations/versions`` (a test keeps them equal)."""

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
_PG_MIGRATION_LOCK = 0x6C6F6F706D6C  # any constant: serializes concurrent first opens


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config built in code (no ``alembic.ini``) that migrates ``connection``."""
    from alembic.config import Config  # deferred: alembic is only needed to migrate

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def current_revision(conn: Connection) -> str | None:
    """The schema revision recorded in the database, or None for a database never migrated."""
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(db: Database) -> None:
    """Migrate ``db`` to :data:`HEAD_REVISION`; a no-op after one read when it is current.

    Raises:
        StoreError: the database holds a schema newer than this loopml knows.
    """
    if db.read(current_revision) == HEAD_REVISION:
        return
    db.write(_upgrade_locked)


def _upgrade_locked(conn: Connection) -> None:
    # Within one write transaction (SQLite: BEGIN IMMEDIATE; PostgreSQL: advisory lock) so that
    # processes opening a fresh database together migrate it once.
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
    revision = current_revision(conn)
    if revision == HEAD_REVISION:
        return
    if revision is not None and not _is_known(revision):
        raise StoreError(
            f"The metadata store's schema is at revision {revision!r}, which this version of "
            "loopml does not know.",
            hint="Upgrade loopml to the version that last wrote this store.",
        )
    from alembic import command  # deferred: alembic is only needed to migrate

    command.upgrade(alembic_config(conn), "head")


def _is_known(revision: str) -> bool:
    return any(
        path.name.startswith(f"{revision}_") for path in (MIGRATIONS_DIR / "versions").glob("*.py")
    )
