"""Garbage collection of artifacts no metadata record refers to."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from loopml._constants import DEFAULT_MIN_AGE_S
from loopml.store import ArtifactStore, MetadataStore


@dataclass
class GarbageReport:
    """Unreferenced artifacts (digest -> bytes) and whether they were deleted."""

    referenced: int
    unreferenced: dict[str, int] = field(default_factory=dict)
    kept_recent: int = 0
    deleted: bool = False

    @property
    def bytes(self) -> int:
        return sum(self.unreferenced.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "referenced": self.referenced,
            "unreferenced": [{"digest": d, "bytes": n} for d, n in self.unreferenced.items()],
            "unreferenced_bytes": self.bytes,
            "kept_recent": self.kept_recent,
            "deleted": self.deleted,
        }


def referenced_artifacts(store: MetadataStore, projects: Iterable[str]) -> set[str]:
    """Digests that a record of ``projects`` or any registered model refers to: dataset
    snapshots, run artifacts (of every run, children included), model artifacts and monitoring
    report artifacts."""
    digests: set[str] = {v.artifact for v in store.models.list_versions()}
    for project in set(projects):
        digests.update(v.artifact for v in store.datasets.list(project))
        for run in store.runs.list(project):
            digests.update(run.artifacts.values())
        digests.update(r.artifact for r in store.monitoring.list(project) if r.artifact)
    return digests


def collect_garbage(
    store: MetadataStore,
    artifacts: ArtifactStore,
    projects: Iterable[str],
    *,
    delete: bool = False,
    min_age_s: float = DEFAULT_MIN_AGE_S,
) -> GarbageReport:
    """Find (and with ``delete``, remove) artifacts no record refers to.

    Artifacts modified less than ``min_age_s`` seconds ago are never collected. References are
    read before the artifact listing, so a blob recorded meanwhile is at worst kept, never lost.
    """
    referenced = referenced_artifacts(store, [*projects, *store.models.list_names()])
    now = time.time()
    report = GarbageReport(referenced=len(referenced))
    for digest in artifacts.list():
        if digest in referenced:
            continue
        stat = os.stat(artifacts.local_path(digest, verify=False))
        if now - stat.st_mtime < min_age_s:
            report.kept_recent += 1
            continue
        report.unreferenced[digest] = stat.st_size
    if delete:
        for digest in report.unreferenced:
            artifacts.delete(digest)
        report.deleted = True
    return report
