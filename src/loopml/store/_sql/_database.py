"""Engines, transactions with retry, and backend-error translation for the SQL store."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any, TypeVar

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

from loopml.errors import AlreadyExistsError, LoopmlError, StoreError

_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 30_000
RETRY_SECONDS = 60.0
"""How long a transaction that keeps failing on a lock or serialization conflict is retried."""

_TRANSIENT_PG_CODES = {"40001", "40P01", "55P03"}  # serialization failure, deadlock, lock n/a


def mask_url(url: sa.URL) -> str:
    """The URL as a string with its password replaced by ``***``."""
    return url.render_as_string(hide_password=True)


def _is_memory(url: sa.URL) -> bool:
    return url.database in (None, "", ":memory:")


def create_engine(url: sa.URL) -> Engine:
    """An engine for ``url`` set up for loopml's access pattern (SQLite: WAL, busy timeout,
    foreign keys, explicit ``BEGIN``; PostgreSQL: pre-pinged pooled connections).

    Raises:
        StoreError: the folder of a SQLite file cannot be created.
    """
    json_codec: dict[str, Any] = {"json_serializer": _dump_json, "json_deserializer": _load_json}
    if url.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True, **json_codec)
    if _is_memory(url):
        engine = sa.create_engine(
            url, poolclass=StaticPool, connect_args={"check_same_thread": False}, **json_codec
        )
    else:
        folder = Path(str(url.database)).expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(
                f"Cannot create the folder {folder} for the metadata store at {mask_url(url)}: "
                f"{error.strerror}.",
                hint="Pick a store path in a writable folder.",
            ) from error
        engine = sa.create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **json_codec
        )
    _configure_sqlite(engine, wal=not _is_memory(url))
    return engine


def _dump_json(value: Any) -> str:
    """JSON columns are written by orjson (several times faster than ``json.dumps``, which
    matters for the prediction log); non-string keys and numpy values are accepted, and NaN or
    infinity become ``null`` (valid JSON, unlike ``json.dumps``'s ``NaN``)."""
    return orjson.dumps(value, option=_JSON_OPTIONS).decode()


def _load_json(value: Any) -> Any:
    """A JSON column's value; SQLite hands back a bare number already converted (the JSON
    column has numeric affinity there)."""
    if isinstance(value, str | bytes):
        return orjson.loads(value)
    return value


def _configure_sqlite(engine: Engine, *, wal: bool) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so that BEGIN is emitted by us (below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if wal:
            cursor.execute("PRAGMA journal_mode = WAL")
            # Durability trade-off: in WAL mode NORMAL syncs at checkpoints, not at each commit.
            # The file never corrupts and a process crash loses nothing committed; a power loss
            # or OS crash may roll back the last commits (FULL would fsync each one, ~10x slower
            # for small tracking transactions).
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # Writers take the write lock up front: a deferred transaction that upgrades to a write
        # fails at once with "database is locked" instead of waiting on busy_timeout.
        mode = connection.get_execution_options().get("loopml_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """One engine plus the transaction discipline every sub-store uses.

    :meth:`write` and :meth:`read` run ``work(connection)`` in one transaction, retry it while the
    database reports a lock or serialization conflict (up to :data:`RETRY_SECONDS`), and translate
    what remains into :mod:`loopml.errors`.
    """

    def __init__(self, url: sa.URL) -> None:
        self.url = url
        self.masked_url = mask_url(url)
        self.engine = create_engine(url)
        self.dialect = self.engine.dialect.name
        # One shared in-memory SQLite connection must not be used by two threads at once.
        self._lock: AbstractContextManager[Any] = (
            threading.RLock() if self.dialect == "sqlite" and _is_memory(url) else nullcontext()
        )

    def write(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in a write transaction; see the class docstring."""
        return self._run(work, write=True)

    def read(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in a read transaction; see the class docstring."""
        return self._run(work, write=False)

    def _run(self, work: Callable[[Connection], T], *, write: bool) -> T:
        deadline = time.monotonic() + RETRY_SECONDS
        delay = 0.005
        while True:
            try:
                with self._lock, self.engine.connect() as conn:
                    if write and self.dialect == "sqlite":
                        conn.execution_options(loopml_begin="IMMEDIATE")
                    with conn.begin():
                        return work(conn)
            except sa.exc.DBAPIError as error:
                if _is_transient(error) and time.monotonic() < deadline:
                    time.sleep(delay * (1 + random.random()))
                    delay = min(delay * 2, 0.5)
                    continue
                raise translate_error(error, self.masked_url) from error

    def dispose(self) -> None:
        self.engine.dispose()


def _is_transient(error: sa.exc.DBAPIError) -> bool:
    code = getattr(error.orig, "sqlstate", None)
    if code in _TRANSIENT_PG_CODES:
        return True
    message = str(error.orig).lower()
    return "database is locked" in message or "database is busy" in message


def translate_error(error: sa.exc.DBAPIError, masked_url: str) -> LoopmlError:
    """The :mod:`loopml.errors` exception for a backend error (the caller raises it ``from``)."""
    reason = str(error.orig).strip().splitlines()[0] if str(error.orig).strip() else type(error)
    if isinstance(error, sa.exc.IntegrityError):
        return AlreadyExistsError(
            f"The metadata store at {masked_url} refused a duplicate record ({reason}).",
            hint="Another writer created it first; read it back instead of creating it again.",
        )
    if _is_transient(error):
        return StoreError(
            f"The metadata store at {masked_url} stayed locked for over {RETRY_SECONDS:.0f} s "
            f"({reason}).",
            hint="Another process holds a long write transaction; retry when it finishes.",
        )
    if error.connection_invalidated or isinstance(error, sa.exc.OperationalError):
        return StoreError(
            f"Cannot use the metadata store at {masked_url}: {reason}.",
            hint="Check that the database server is running, the URL (or LOOPML_STORE_URL) is "
            "right and the file or database is readable and writable.",
        )
    return StoreError(
        f"The metadata store at {masked_url} rejected an operation: {reason}.",
        hint="This is likely a bug in loopml or a schema from a newer version; please report it.",
    )
