"""The background prediction logger: batching, bounded loss, nothing lost on a graceful stop."""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import httpx
import pandas as pd
import pytest
from serve_support import records_of, wait_for

from loopml.errors import InvalidInputError, StoreError
from loopml.serve import (
    BackgroundPredictionLogger,
    LoadedModel,
    StaticResolver,
    create_app,
    running_server,
)
from loopml.serve._logger import shareable_url
from loopml.store import MetadataStore, PredictionRecord, open_store
from loopml.store._records import utcnow
from loopml.store._writer_process import CHUNK_ROWS


class FakePredictions:
    """Records the batches it is given; can be made to block or to fail."""

    def __init__(self) -> None:
        self.batches: list[list[PredictionRecord]] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        self.release.set()
        self.failures = 0

    def add(self, records: Sequence[PredictionRecord]) -> int:
        self.entered.set()
        self.release.wait()
        if self.failures:
            self.failures -= 1
            raise StoreError("The database is locked.")
        self.batches.append(list(records))
        return len(records)

    @property
    def written(self) -> list[str]:
        return [r.request_id for batch in self.batches for r in batch]


class FakeStore:
    def __init__(self) -> None:
        self.predictions = FakePredictions()


def prediction(i: int = 0) -> PredictionRecord:
    return PredictionRecord(uuid.uuid4().hex, utcnow(), "churn", 1, {"x": i}, {"prediction": 1})


def logger_for(store: FakeStore, **options: Any) -> BackgroundPredictionLogger:
    return BackgroundPredictionLogger(cast(MetadataStore, store), **options)


def test_records_are_written_in_batches_and_close_writes_the_rest() -> None:
    store = FakeStore()
    sink = logger_for(store, batch_size=4, flush_interval=60.0)
    records = [prediction(i) for i in range(10)]

    sink.submit(records[:7])
    sink.submit(records[7:])
    sink.close()

    assert store.predictions.written == [r.request_id for r in records]
    assert max(len(b) for b in store.predictions.batches) == 4
    assert (sink.written, sink.dropped, sink.failed) == (10, 0, 0)


def test_a_record_waits_at_most_the_flush_interval() -> None:
    store = FakeStore()
    sink = logger_for(store, batch_size=1000, flush_interval=0.01)

    sink.submit([prediction()])
    wait_for(lambda: sink.written == 1)
    sink.close()


def test_flush_waits_until_everything_queued_is_written() -> None:
    store = FakeStore()
    sink = logger_for(store, batch_size=3, flush_interval=60.0)

    sink.submit([prediction(i) for i in range(5)])
    sink.flush()

    assert len(store.predictions.written) == 5
    sink.close()


def test_a_full_queue_drops_new_records_with_a_warning_instead_of_blocking(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = FakeStore()
    store.predictions.release.clear()
    sink = logger_for(store, batch_size=1, flush_interval=60.0, max_queue=5)
    sink.submit([prediction()])
    assert store.predictions.entered.wait(5.0)  # the writer is stuck on the first record

    with caplog.at_level(logging.WARNING, logger="loopml.serve._logger"):
        sink.submit([prediction(i) for i in range(8)])

    assert sink.dropped == 3
    assert "Dropped 3 prediction record(s) because the prediction log queue is full" in caplog.text
    store.predictions.release.set()
    sink.close()
    assert sink.written == 6


def test_a_batch_the_store_refuses_is_counted_and_logging_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = FakeStore()
    store.predictions.failures = 1
    sink = logger_for(store, batch_size=2, flush_interval=60.0)

    sink.submit([prediction(i) for i in range(3)])
    sink.close()

    assert (sink.failed, sink.written) == (2, 1)
    assert "Could not write 2 prediction record(s)" in caplog.text


def test_records_submitted_after_close_are_dropped() -> None:
    store = FakeStore()
    sink = logger_for(store)
    sink.close()
    sink.close()

    sink.submit([prediction()])

    assert sink.dropped == 1 and store.predictions.written == []


@pytest.mark.parametrize("option", ["batch_size", "flush_interval", "max_queue"])
def test_sizes_and_intervals_must_be_positive(option: str) -> None:
    with pytest.raises(InvalidInputError, match=f"'{option}' parameter"):
        logger_for(FakeStore(), **{option: 0})


def test_served_predictions_reach_a_real_sqlite_store_by_shutdown(
    tmp_path: Path, churn_model: LoadedModel, churn_frame: pd.DataFrame
) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'loopml.db'}")
    sink = BackgroundPredictionLogger(store, batch_size=7, flush_interval=60.0)
    records = records_of(churn_frame.iloc[:20], churn_model.bundle.feature_names)
    app = create_app(StaticResolver({"churn": churn_model}), sink)
    with running_server(app) as url:
        answers = [httpx.post(f"{url}/v1/models/churn/predict", json=r).json() for r in records]

    try:
        logged = store.predictions.list(model_name="churn")
        assert sorted(r.request_id for r in logged) == sorted(a["request_id"] for a in answers)
        first = store.predictions.get(answers[0]["request_id"])
        assert first.model_version == 3
        assert first.inputs == records[0]
        assert first.outputs["prediction"] == answers[0]["prediction"]
    finally:
        store.close()


def test_a_file_store_is_written_by_a_child_process_and_its_death_loses_nothing(
    tmp_path: Path,
) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'loopml.db'}")
    sink = BackgroundPredictionLogger(store, batch_size=5, flush_interval=60.0)
    first = [prediction(i) for i in range(5)]
    sink.submit(first)  # a full batch: written at once, through the child
    wait_for(lambda: sink.written == 5, timeout=60)
    child = sink._child
    assert child is not None and child._process.pid != os.getpid()
    assert len(store.predictions.list(model_name="churn")) == 5  # stored by the child
    if hasattr(os, "SCHED_IDLE"):  # it only takes CPU that requests leave idle
        assert os.sched_getscheduler(child._process.pid) == os.SCHED_IDLE

    child._process.kill()  # the writer dies: this process writes from now on
    child._process.join()
    second = [prediction(i) for i in range(5, 12)]
    sink.submit(second)  # a full batch finds the child gone; the rest is written by close
    wait_for(lambda: sink.written >= 10, timeout=60)
    sink.close()

    try:
        logged = sorted(r.request_id for r in store.predictions.list(model_name="churn"))
        assert logged == sorted(r.request_id for r in first + second)
        assert (sink.written, sink.failed, sink.dropped) == (12, 0, 0)
        assert sink._child is None
    finally:
        store.close()


def test_a_large_batch_reaches_the_child_in_chunks_and_is_stored_whole(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'loopml.db'}")
    sink = BackgroundPredictionLogger(store, batch_size=CHUNK_ROWS * 2 + 5, flush_interval=60.0)
    records = [prediction(i) for i in range(CHUNK_ROWS * 2 + 5)]  # three messages, one batch
    sink.submit(records)
    wait_for(lambda: sink.written == len(records), timeout=60)
    child = sink._child
    sink.close()

    try:
        assert child is not None  # written by the child, not by close()
        stored = {r.request_id: r for r in store.predictions.list(model_name="churn")}
        assert stored == {r.request_id: r for r in records}  # times and values exactly
    finally:
        store.close()


def batches_through_child(
    sink: BackgroundPredictionLogger, monkeypatch: pytest.MonkeyPatch
) -> list[int]:
    """The sizes of the batches ``sink`` sends to its writer process, as they are sent."""
    sizes: list[int] = []
    write_in_child = sink._write_in_child

    def counted(batch: list[PredictionRecord]) -> bool:
        sizes.append(len(batch))
        return write_in_child(batch)

    monkeypatch.setattr(sink, "_write_in_child", counted)
    return sizes


def test_a_backlog_is_written_by_the_thread_until_it_is_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'loopml.db'}")
    sink = BackgroundPredictionLogger(store, batch_size=5, max_queue=20, flush_interval=60.0)
    through_child = batches_through_child(sink, monkeypatch)
    sink.submit([prediction(i) for i in range(15)])  # 3 batches; 2 records is a backlog here
    wait_for(lambda: sink.written == 15, timeout=60)
    sink.close()

    try:
        assert len(store.predictions.list(model_name="churn")) == sink.written == 15
        assert through_child == [5]  # the first two batches left a backlog: the thread wrote
    finally:
        store.close()


def test_flush_and_close_write_at_normal_priority_without_waiting_for_the_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'loopml.db'}")
    sink = BackgroundPredictionLogger(store, batch_size=100, flush_interval=60.0)
    through_child = batches_through_child(sink, monkeypatch)
    sink.submit([prediction(i) for i in range(3)])
    sink.flush()  # the caller waits: this process writes, not the idle-priority child
    written_by_flush = len(store.predictions.list(model_name="churn"))
    sink.submit([prediction(i) for i in range(3, 5)])
    sink.close()

    try:
        assert written_by_flush == 3
        assert len(store.predictions.list(model_name="churn")) == sink.written == 5
        assert through_child == []
    finally:
        store.close()


def test_a_batch_the_child_store_refuses_is_counted_and_logging_goes_on(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'loopml.db'}")
    sink = BackgroundPredictionLogger(store, batch_size=2, flush_interval=60.0, writer="process")
    again = prediction(1)
    sink.submit([prediction(0), again])
    wait_for(lambda: sink.written == 2, timeout=60)
    sink.submit([again, prediction(2)])  # a request id logged before: the child's store refuses
    wait_for(lambda: sink.failed == 2, timeout=60)
    sink.submit([prediction(3), prediction(4)])
    wait_for(lambda: sink.written == 4, timeout=60)
    assert sink._child is not None  # every batch went through the child
    sink.close()

    try:
        assert (sink.written, sink.failed) == (4, 2)
        assert len(store.predictions.list(model_name="churn")) == 4
    finally:
        store.close()


def test_a_writer_process_needs_a_store_another_process_can_open(tmp_path: Path) -> None:
    memory = open_store("sqlite://")
    try:
        assert shareable_url(memory) is None
        assert shareable_url(FakeStore()) is None  # type: ignore[arg-type]
        with pytest.raises(InvalidInputError, match="another process can open"):
            BackgroundPredictionLogger(memory, writer="process")
        sink = BackgroundPredictionLogger(memory)  # auto: a thread
        sink.submit([prediction(0)])
        sink.close()
        assert sink._child is None and sink.written == 1
    finally:
        memory.close()
    assert shareable_url(open_store(f"sqlite:///{tmp_path / 'a.db'}")) is not None


def test_request_ids_are_unique_time_ordered_uuid7() -> None:
    from loopml.serve._predict import new_request_ids

    first = new_request_ids(1000)
    time.sleep(0.002)
    later = new_request_ids(1)[0]

    assert len(set(first)) == 1000
    assert all(len(i) == 32 and uuid.UUID(i).version == 7 for i in first)
    assert max(first) < later  # a later millisecond sorts after every earlier id
