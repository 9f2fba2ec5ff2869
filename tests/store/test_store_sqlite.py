"""The SQLite metadata store passes the shared conformance suite, plus SQLite specifics."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from loopml.store import SqlMetadataStore, open_store
from loopml.testing.store_conformance import MetadataStoreConformance


class TestSqliteStore(MetadataStoreConformance):
    @pytest.fixture
    def store_url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'meta' / 'loopml.db'}"


def test_in_memory_store_is_shared_by_threads() -> None:
    with open_store("sqlite://") as store, ThreadPoolExecutor(4) as pool:
        runs = list(pool.map(lambda i: store.runs.create("p", f"r{i}", "train"), range(20)))
        assert {r.id for r in store.runs.list("p")} == {r.id for r in runs}


def test_file_store_uses_wal_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'x.db'}") as store:
        assert isinstance(store, SqlMetadataStore)
        with store.engine.connect() as conn:
            pragma = lambda name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
            assert pragma("journal_mode") == "wal"
            assert pragma("foreign_keys") == 1
            assert pragma("busy_timeout") == 30_000


def test_times_are_stored_as_utc(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'x.db'}") as store:
        run = store.runs.create("p", "r", "train")
        assert isinstance(store, SqlMetadataStore)
        with store.engine.connect() as conn:
            raw = conn.execute(sa.text("SELECT start_time FROM runs")).scalar()
        assert str(raw).startswith(run.start_time.strftime("%Y-%m-%d %H:%M:%S"))
