"""Deployments as the app sees them: compiled routing tables, and per-arm request counters."""

from __future__ import annotations

import abc
import os
import socket
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from loopml.errors import NotFoundError
from loopml.serve._interfaces import LoadedModel
from loopml.serve._routing import RoutingPolicy, compile_policy

if TYPE_CHECKING:
    from loopml.store._base import DeploymentStore


@dataclass(frozen=True, eq=False)
class CompiledDeployment:
    """A deployment ready to route: its policy object and the loaded model of every arm.

    Attributes:
        name: the deployment's name (``/v1/deployments/{name}/predict``).
        spec: the stored policy dict it was compiled from.
        policy: chooses the arm of each record.
        models: the loaded model of each arm.
        fields: every field name any arm's model accepts (to tell a record from a wrapper).
    """

    name: str
    spec: dict[str, Any]
    policy: RoutingPolicy
    models: dict[str, LoadedModel]
    fields: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        names = {c for m in self.models.values() for c in m.schema.column_names}
        object.__setattr__(self, "fields", frozenset(names))

    @classmethod
    def build(
        cls, name: str, spec: Mapping[str, Any], models: Mapping[str, LoadedModel]
    ) -> CompiledDeployment:
        """Compile ``spec``; ``models`` maps each arm's reference to its loaded model.

        Raises:
            InvalidInputError: the policy is malformed.
            KeyError: an arm's reference is missing from ``models``.
        """
        policy, arms = compile_policy(spec)
        return cls(name, dict(spec), policy, {arm: models[ref] for arm, ref in arms.items()})

    def describe(self) -> dict[str, Any]:
        """The deployment's policy and the model serving each arm."""
        return {
            "name": self.name,
            "kind": self.spec.get("kind"),
            "policy": self.spec,
            "arms": {arm: model.ref for arm, model in self.models.items()},
        }


class DeploymentResolver(abc.ABC):
    """Maps deployment names to compiled deployments.

    Contract: :meth:`get` is called on every request and does no I/O; :meth:`refresh` reloads
    changed deployments and swaps the table in one assignment. Thread-safe.
    """

    @abc.abstractmethod
    def get(self, name: str) -> CompiledDeployment:
        """The deployment ``name``.

        Raises:
            NotFoundError: no such deployment (the hint lists the known ones).
            LoopmlError: it exists but could not be compiled or loaded (the message says why).
        """

    @abc.abstractmethod
    def names(self) -> list[str]:
        """Every deployment name, sorted (including ones that failed to load)."""

    @abc.abstractmethod
    def refresh(self) -> None:
        """Reload deployments that changed in their source."""


class StaticDeployments(DeploymentResolver):
    """A fixed set of compiled deployments (tests and scripts)."""

    def __init__(self, deployments: Mapping[str, CompiledDeployment]) -> None:
        self._table = dict(deployments)

    def get(self, name: str) -> CompiledDeployment:
        try:
            return self._table[name]
        except KeyError:
            raise unknown_deployment_error(name, self.names()) from None

    def names(self) -> list[str]:
        return sorted(self._table)

    def refresh(self) -> None:
        """Nothing to reload."""


def unknown_deployment_error(name: str, known: list[str]) -> NotFoundError:
    """The error for a request naming a deployment that does not exist."""
    hint = f"Known deployments: {', '.join(known)}." if known else "No deployment exists yet."
    return NotFoundError(f"No deployment named {name!r} is served.", hint=hint)


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

    def snapshot(self, deployment: str) -> dict[str, tuple[int, int]]:
        """``{arm: (requests, failures)}`` of one deployment."""
        with self._lock:
            return self._arms(deployment)

    def reset(self, deployment: str, policy_time: datetime | None = None) -> None:
        """Start ``deployment``'s counts again, for its policy put at ``policy_time`` (when
        given, :meth:`report` files them under it)."""
        with self._lock:
            for key in [k for k in self._counts if k[0] == deployment]:
                del self._counts[key]
            if policy_time is not None:
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
