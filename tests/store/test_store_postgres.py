"""The PostgreSQL metadata store passes the shared conformance suite.

Each test gets a fresh schema on the server named by ``LOOPML_TEST_POSTGRES_URL`` (default: local
trust auth). Without a reachable server the module is skipped, unless ``LOOPML_REQUIRE_POSTGRES=1``
makes that a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from uuid import uuid4

import pytest
import sqlalchemy as sa

from loopml.errors import StoreError
from loopml.store import SqlMetadataStore, open_store
from loopml.testing.store_conformance import MetadataStoreConformance

pytestmark = pytest.mark.postgres

SERVER_URL = os.environ.get(
    "LOOPML_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="module")
def server() -> Iterator[sa.Engine]:
    engine = sa.create_engine(SERVER_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as error:
        engine.dispose()
        if os.environ.get("LOOPML_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL at {SERVER_URL} is required but unreachable: {error}")
        pytest.skip(f"PostgreSQL at {SERVER_URL} is unreachable")
    yield engine
    engine.dispose()


@pytest.fixture
def schema_url(server: sa.Engine) -> Iterator[str]:
    """The URL of a fresh, empty schema (dropped afterwards)."""
    schema = f"loopml_t_{uuid4().hex[:12]}"
    with server.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = sa.make_url(SERVER_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with server.connect() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")


class TestPostgresStore(MetadataStoreConformance):
    @pytest.fixture
    def store_url(self, schema_url: str) -> str:
        return schema_url


def test_plain_postgresql_scheme_uses_psycopg3(schema_url: str) -> None:
    plain = schema_url.replace("postgresql+psycopg://", "postgresql://")
    with open_store(plain) as store:
        assert isinstance(store, SqlMetadataStore)
        assert store.engine.dialect.driver == "psycopg"
        assert store.url.startswith("postgresql+psycopg://")


def test_unreachable_server_is_a_store_error_naming_the_masked_url() -> None:
    url = "postgresql://ann:s3cret@127.0.0.1:1/none?connect_timeout=2"
    with pytest.raises(
        StoreError, match=r"postgresql\+psycopg://ann:\*\*\*@127\.0\.0\.1:1"
    ) as info:
        open_store(url)
    assert "s3cret" not in str(info.value)
    assert info.value.hint and "running" in info.value.hint
    assert isinstance(info.value.__cause__, sa.exc.OperationalError)
