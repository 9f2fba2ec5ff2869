"""Alembic environment for loopml's metadata store.

loopml runs migrations in code (:func:`loopml.store._sql._migrate.upgrade`) and passes the
connection to migrate in ``config.attributes["connection"]``; no ``alembic.ini`` is needed. A
``sqlalchemy.url`` main option is honoured for running ``alembic`` by hand.
"""

from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa
from alembic import context
from alembic.autogenerate.api import AutogenContext

from loopml.store._sql._tables import UTCDateTime, metadata


def _render_item(kind: str, item: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    # Migrations stay independent of loopml's code: the UTC decorator is a plain timestamptz.
    if kind == "type" and isinstance(item, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=_render_item,
        transactional_ddl=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate the given connection, or one opened from ``sqlalchemy.url``."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = sa.create_engine(context.config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        _run(conn)
        conn.commit()


if context.is_offline_mode():
    raise RuntimeError("loopml migrations run online only; pass a connection or sqlalchemy.url.")
run_migrations_online()
