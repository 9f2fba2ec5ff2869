"""Tracked runs hand their log calls to a background writer that commits in batches; flush, end
and leaving the ``with`` block wait for durability, and interpreter exit flushes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from loopml.errors import InvalidInputError, NotFoundError
from loopml.store import MetadataStore, Run, open_store
from loopml.tracking import ActiveRun, BackgroundWriter, start_run
from loopml.tracking import _writer as writer_module


@pytest.fixture
def store(tmp_path: Path) -> Iterator[MetadataStore]:
    opened = open_store(f"sqlite:///{tmp_path / 'loopml.db'}")
    yield opened
    opened.close()


def test_many_threads_logging_to_one_run_lose_nothing(store: MetadataStore) -> None:
    with start_run(store, "p", "threads", code_dir=Path.cwd()) as run:

        def log(worker: int) -> None:
            for step in range(250):
                run.log_metric(f"w{worker}", float(step), step=step)
            run.set_tags({f"worker{worker}": "done"})

        threads = [threading.Thread(target=log, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    stored = store.runs.get(run.id)
    assert stored.status == "finished"
    for worker in range(8):
        history = store.runs.metric_history(run.id, f"w{worker}")
        assert [p.step for p in history] == list(range(250))
        assert stored.metrics[f"w{worker}"] == 249.0
        assert stored.tags[f"worker{worker}"] == "done"


def test_many_runs_in_many_threads_keep_their_own_data(store: MetadataStore) -> None:
    def train(i: int) -> None:
        with start_run(store, "p", f"run{i}") as run:
            run.log_params({"i": i, "lr": 0.1 * i})
            for step in range(50):
                run.log_metric("loss", 1.0 / (step + 1), step=step)

    threads = [threading.Thread(target=train, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    runs = {r.name: r for r in store.runs.list("p")}
    assert len(runs) == 6
    for i in range(6):
        run = runs[f"run{i}"]
        assert run.status == "finished"
        assert run.params == {"i": str(i), "lr": repr(0.1 * i)}
        assert len(store.runs.metric_history(run.id, "loss")) == 50


def test_exception_inside_with_flushes_and_marks_failed(store: MetadataStore) -> None:
    with pytest.raises(RuntimeError, match="boom"), start_run(store, "p", "crash") as run:
        run.log_params({"lr": 0.3})
        for step in range(100):
            run.log_metric("loss", float(step), step=step)
        raise RuntimeError("boom")
    stored = store.runs.get(run.id)
    assert stored.status == "failed" and stored.end_time is not None
    assert stored.params == {"lr": "0.3"}
    assert len(store.runs.metric_history(run.id, "loss")) == 100


def test_flush_makes_everything_logged_so_far_visible(store: MetadataStore) -> None:
    with start_run(store, "p", "r") as run:
        run.log_metrics({"a": 1.0, "b": 2.0})
        run.set_tags({"stage": "fit"})
        run.flush()
        seen = store.runs.get(run.id)
        assert (seen.status, seen.metrics, seen.tags["stage"]) == (
            "running",
            {"a": 1.0, "b": 2.0},
            "fit",
        )


def test_child_runs_are_nested_and_flushed_independently(store: MetadataStore) -> None:
    with start_run(store, "p", "parent") as run:
        with run.child("trial", "trial", seed=3) as child:
            child.log_metric("score", 0.5)
        assert store.runs.get(child.id).metrics == {"score": 0.5}
        assert store.runs.get(child.id).status == "finished"
    assert store.runs.get(child.id).parent_id == run.id
    assert store.runs.get(child.id).tags["seed"] == "3"


def test_relogging_a_param_with_another_value_fails_at_once(store: MetadataStore) -> None:
    with start_run(store, "p", "r") as run:
        run.log_params({"lr": 0.1})
        run.log_params({"lr": 0.1})
        with pytest.raises(InvalidInputError, match="'lr'"):
            run.log_params({"lr": 0.2, "depth": 3})
    assert store.runs.get(run.id).params == {"lr": "0.1"}


def test_a_conflict_met_by_the_writer_is_raised_and_the_rest_is_kept(
    store: MetadataStore,
) -> None:
    run = start_run(store, "p", "r")
    store.runs.log_batch(run.id, params={"lr": "0.5"})  # another writer got there first
    run.log_params({"lr": 0.1, "depth": 3})
    run.log_metric("loss", 1.0)
    with pytest.raises(InvalidInputError, match="'lr'"):
        run.end()
    stored = store.runs.get(run.id)
    assert stored.status == "failed"
    assert stored.params == {"lr": "0.5", "depth": "3"}
    assert stored.metrics == {"loss": 1.0}


def test_logging_after_end_is_refused(store: MetadataStore) -> None:
    with start_run(store, "p", "r") as run:
        run.log_metric("a", 1.0)
    with pytest.raises(InvalidInputError, match="has ended"):
        run.log_metric("a", 2.0)
    assert run.end().status == "finished"  # ending again returns the stored run


def test_a_full_buffer_is_committed_by_the_logging_thread(
    store: MetadataStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer_module, "MAX_PENDING_ITEMS", 10)
    writer = BackgroundWriter(interval=3600)  # the thread alone would not commit in time
    try:
        run = ActiveRun(store, store.runs.create("p", "r", "train"), writer=writer)
        for step in range(25):
            run.log_metric("x", float(step), step=step)
        assert len(store.runs.metric_history(run.id, "x")) == 20  # two full buffers, unflushed
        run.end()
        assert len(store.runs.metric_history(run.id, "x")) == 25
    finally:
        writer.close()


def test_the_writer_commits_in_the_background_without_a_flush(store: MetadataStore) -> None:
    writer = BackgroundWriter(interval=0.01)
    try:
        run = ActiveRun(store, store.runs.create("p", "r", "train"), writer=writer)
        run.log_metric("x", 1.0)
        run.set_tags({"phase": "fit"})
        deadline = time.monotonic() + 60
        while not store.runs.metric_history(run.id, "x") and time.monotonic() < deadline:
            time.sleep(0.01)
        assert store.runs.get(run.id).tags == {"phase": "fit"}
        assert store.runs.get(run.id).status == "running"
    finally:
        writer.close()


def test_a_closed_writer_commits_what_it_holds_and_refuses_new_items(
    store: MetadataStore,
) -> None:
    writer = BackgroundWriter(interval=3600)
    run = ActiveRun(store, store.runs.create("p", "r", "train"), writer=writer)
    run.log_metric("x", 1.0)
    writer.close()
    assert store.runs.metric_history(run.id, "x")[0].value == 1.0
    with pytest.raises(InvalidInputError, match="closed"):
        run.log_metric("x", 2.0)


def test_interpreter_exit_flushes_a_run_that_was_never_ended(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'exit.db'}"
    script = textwrap.dedent(
        f"""
        from loopml.store import open_store
        from loopml.tracking import start_run
        run = start_run(open_store({url!r}), "p", "left-open")
        for step in range(500):
            run.log_metric("loss", float(step), step=step)
        print(run.id)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    run_id = done.stdout.strip()
    with open_store(url) as reopened:
        assert len(reopened.runs.metric_history(run_id, "loss")) == 500
        assert reopened.runs.get(run_id).status == "running"


def test_a_short_run_is_created_with_everything_it_logged_in_one_transaction(
    store: MetadataStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = store._db  # type: ignore[attr-defined]
    writes: list[object] = []
    original = database.write

    def counted(work: Any) -> Any:
        writes.append(work)
        return original(work)

    monkeypatch.setattr(database, "write", counted)
    with start_run(store, "p", "short", tags={"team": "risk"}) as run:
        run.log_params({"family": "lightgbm", "lr": 0.1})
        run.log_metrics({"auc": 0.9, "loss": 0.3})
    assert len(writes) == 1
    stored = store.runs.get(run.id)
    assert (stored.status, stored.params["family"], stored.metrics) == (
        "finished",
        "lightgbm",
        {"auc": 0.9, "loss": 0.3},
    )
    assert stored.tags["team"] == "risk" and "package.numpy" in stored.tags
    assert stored.start_time < stored.end_time  # type: ignore[operator]


def test_this_process_reads_its_buffered_runs_and_others_see_them_once_committed(
    store: MetadataStore, tmp_path: Path
) -> None:
    writer = BackgroundWriter(interval=3600)  # nothing is committed in the background
    other = open_store(f"sqlite:///{tmp_path / 'loopml.db'}")  # like another process
    try:
        run = ActiveRun(store, _unsaved_run(), writer=writer, pending=True)  # what start_run builds
        run.log_params({"lr": 0.1})
        with pytest.raises(NotFoundError):
            other.runs.get(run.id)
        seen = store.runs.get(run.id)  # read-your-writes: created (with its params) first
        assert (seen.status, seen.params) == ("running", {"lr": "0.1"})
        assert other.runs.get(run.id).params == {"lr": "0.1"}
        child = run.child("trial", "trial")
        child.log_metric("score", 0.5)
        assert [r.name for r in store.runs.search("p", "metrics.score > 0")] == ["trial"]
        assert other.runs.get(child.id).parent_id == run.id
        child.end()
        run.end()
    finally:
        writer.close()
        other.close()


def test_a_buffered_run_appears_within_the_writer_interval_without_logging(
    store: MetadataStore, tmp_path: Path
) -> None:
    writer = BackgroundWriter(interval=0.01)
    other = open_store(f"sqlite:///{tmp_path / 'loopml.db'}")
    try:
        run = ActiveRun(store, _unsaved_run(), writer=writer, pending=True)
        deadline = time.monotonic() + 60
        while not other.runs.list("p") and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [r.id for r in other.runs.list("p")] == [run.id]
        run.end()
    finally:
        writer.close()
        other.close()


def test_a_missing_parent_is_refused_when_the_run_starts(store: MetadataStore) -> None:
    with pytest.raises(NotFoundError):
        start_run(store, "p", "orphan", parent_id="no-such-run")
    assert store.runs.list("p") == []


def _unsaved_run() -> Run:
    return Run(
        id=uuid4().hex,
        project="p",
        name="buffered",
        kind="train",
        status="running",
        start_time=datetime.now(UTC),
    )
