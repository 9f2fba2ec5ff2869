"""Requests and failures per deployment arm, counted by one serving worker and reported to the
store, where the canary's guardrails read every worker's sum."""

from __future__ import annotations

import os
import socket
import threading
import uuid
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from loopml.store._base import DeploymentStore


class ArmCounters:
    """Requests and failures per (deployment, arm) in this process, for canary guardrails.

    Counts belong to the policy a deployment was compiled from: :meth:`reset` starts them again
    for a new one. :meth:`report` hands them to the metadata store under that policy, where the
    rollout controller sums the counts of every serving worker (of every process and host).

    Args:
        worker: this process's name in the store's counts; unique (host, PID and a random
            suffix) when None.
    """

    def __init__(self, worker: str | None = None) -> None:
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str], list[int]] = {}
        self._policies: dict[str, datetime] = {}
        self._reported: dict[str, tuple[datetime, dict[str, tuple[int, int]]]] = {}

    def record(self, deployment: str, arm: str, *, failed: bool) -> None:
        with self._lock:
            counts = self._counts.setdefault((deployment, arm), [0, 0])
            counts[0] += 1
            counts[1] += int(failed)

    def reset(self, deployment: str, policy_time: datetime) -> None:
        """Start ``deployment``'s counts again, for its policy put at ``policy_time`` (the
        policy :meth:`report` files them under)."""
        with self._lock:
            for key in [k for k in self._counts if k[0] == deployment]:
                del self._counts[key]
            self._policies[deployment] = policy_time

    def report(self, store: DeploymentStore) -> None:
        """Write this worker's totals of every deployment whose policy is known to ``store``.

        Raises:
            StoreError: the store refused the write (the counts stay here for the next try).
        """
        with self._lock:  # counts and their policy read together, then written unlocked
            reports = [
                (name, policy_time, counts)
                for name, policy_time in sorted(self._policies.items())
                if (counts := self._arms(name))
                and self._reported.get(name) != (policy_time, counts)
            ]
        for name, policy_time, counts in reports:
            store.report_requests(name, policy_time, self.worker, counts)
            self._reported[name] = (policy_time, counts)  # unchanged counts are not rewritten

    def _arms(self, deployment: str) -> dict[str, tuple[int, int]]:
        return {arm: (c[0], c[1]) for (name, arm), c in self._counts.items() if name == deployment}
