"""The SQLite metadata store passes the shared conformance suite, plus SQLite specifics."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from loopml.store import MetricPoint, SqlMetadataStore, open_store
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


def test_run_rows_written_in_one_call_store_times_like_every_other_write(tmp_path: Path) -> None:
    whole = datetime(2024, 1, 1, tzinfo=UTC)  # no microseconds: the driver would drop them
    with open_store(f"sqlite:///{tmp_path / 'x.db'}") as store:
        run = store.runs.create(
            "p", "r", "train", start_time=whole, metrics=[MetricPoint("m", 1.0, 0, whole)]
        )
        store.runs.log_batch(run.id, metrics=[MetricPoint("m", 2.0, 1, whole)])
        assert isinstance(store, SqlMetadataStore)
        with store.engine.connect() as conn:
            start = conn.execute(sa.text("SELECT start_time FROM runs")).scalar()
            stamps = conn.execute(sa.text("SELECT timestamp FROM run_metrics")).scalars().all()
            pragma = conn.exec_driver_sql("PRAGMA synchronous").scalar()
    assert start == "2024-01-01 00:00:00.000000"
    assert stamps == ["2024-01-01 00:00:00.000000"] * 2
    assert pragma == 1  # NORMAL: safe from corruption in WAL mode; see the store docs
