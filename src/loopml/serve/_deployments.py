"""Deployments as the app sees them: compiled routing tables."""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from loopml.errors import NotFoundError
from loopml.serve._interfaces import LoadedModel
from loopml.serve._routing import RoutingPolicy, compile_policy


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
