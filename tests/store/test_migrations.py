"""The shipped Alembic migrations build exactly the schema of the SQLAlchemy tables."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from loopml.errors import StoreError
from loopml.store import SqlMetadataStore, open_store
from loopml.store._sql import _migrate
from loopml.store._sql._tables import metadata

POSTGRES_URL = os.environ.get(
    "LOOPML_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _schema_diff(engine: sa.Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def test_head_revision_constant_matches_the_scripts() -> None:
    script = ScriptDirectory.from_config(_migrate.alembic_config())
    assert script.get_heads() == [_migrate.HEAD_REVISION]


def test_migrated_sqlite_matches_metadata(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'm.db'}") as store:
        assert isinstance(store, SqlMetadataStore)
        assert _schema_diff(store.engine) == []


@pytest.fixture
def postgres_schema_url() -> Iterator[str]:
    server = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    schema = f"loopml_t_{uuid4().hex[:12]}"
    try:
        with server.connect() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    except sa.exc.OperationalError:
        server.dispose()
        if os.environ.get("LOOPML_REQUIRE_POSTGRES") == "1":
            raise
        pytest.skip(f"PostgreSQL at {POSTGRES_URL} is unreachable")
    url = sa.make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with server.connect() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    server.dispose()


@pytest.mark.postgres
def test_migrated_postgres_matches_metadata(postgres_schema_url: str) -> None:
    with open_store(postgres_schema_url) as store:
        assert isinstance(store, SqlMetadataStore)
        assert _schema_diff(store.engine) == []


def test_downgrade_then_upgrade_roundtrips(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    with open_store(url) as store:
        assert isinstance(store, SqlMetadataStore)
        with store.engine.begin() as conn:
            command.downgrade(_migrate.alembic_config(conn), "base")
            assert _migrate.current_revision(conn) is None
            assert sa.inspect(conn).get_table_names() == ["alembic_version"]
    with open_store(url) as store:
        store.runs.create("p", "r", "train")


def test_opening_a_current_store_runs_no_migration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    open_store(url).close()

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("alembic ran on an up-to-date store")

    monkeypatch.setattr(command, "upgrade", fail)
    with open_store(url) as store:
        assert store.runs.list("p") == []


def test_a_newer_unknown_schema_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    with open_store(url) as store:
        assert isinstance(store, SqlMetadataStore)
        with store.engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StoreError, match="9999") as info:
        open_store(url)
    assert info.value.hint and "Upgrade loopml" in info.value.hint
