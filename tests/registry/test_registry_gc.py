"""Garbage collection finds artifacts no record refers to; it deletes only when asked."""

from __future__ import annotations

import os
from pathlib import Path

from loopml.registry import collect_garbage
from loopml.store import LocalArtifactStore, open_store


def test_gc_lists_then_deletes_only_unreferenced_old_artifacts(tmp_path: Path) -> None:
    artifacts = LocalArtifactStore(tmp_path / "artifacts")
    with open_store("sqlite://") as store:
        model = artifacts.put_bytes(b"model")
        run_file = artifacts.put_bytes(b"report")
        orphan = artifacts.put_bytes(b"orphan bytes")
        fresh = artifacts.put_bytes(b"just written")
        store.models.create_version("churn", artifact=model, task="binary")
        run = store.runs.create("churn", "train", "train")
        store.runs.log_batch(run.id, artifacts={"evaluation.html": run_file})
        old = 1_000_000_000
        for digest in (model, run_file, orphan):
            os.utime(artifacts.local_path(digest, verify=False), (old, old))

        dry = collect_garbage(store, artifacts, ["churn"])
        assert dry.unreferenced == {orphan: len(b"orphan bytes")}
        assert (dry.kept_recent, dry.deleted, dry.referenced) == (1, False, 2)
        assert artifacts.exists(orphan)

        done = collect_garbage(store, artifacts, ["churn"], delete=True)
        assert done.deleted and done.to_dict()["unreferenced_bytes"] == len(b"orphan bytes")
        assert sorted(artifacts.list()) == sorted([model, run_file, fresh])
