"""The admin API's operations on a project's deployments (see :mod:`loopml.serve._admin`)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from loopml.errors import InvalidInputError
from loopml.project._deploy import (
    advance,
    deploy_ab,
    deploy_bandit,
    deploy_blue_green,
    deploy_canary,
    deploy_shadow,
    deploy_single,
    rollback,
)
from loopml.project._deploy_checks import deployment_status
from loopml.project._project import Project
from loopml.serve._admin import DeploymentAdmin
from loopml.serve._arm_counters import ArmCounters

_STRATEGIES: dict[str, Callable[..., Any]] = {
    "single": deploy_single,
    "blue-green": deploy_blue_green,
    "canary": deploy_canary,
    "shadow": deploy_shadow,
    "ab": deploy_ab,
    "bandit": deploy_bandit,
}
_FIXED = frozenset({"project", "name", "ref", "refs", "actor"})


class ProjectDeploymentAdmin(DeploymentAdmin):
    """Runs ``loopml deploy …`` operations on ``project`` for the admin API.

    ``counters`` are the serving process's per-arm counts, so an advance over HTTP judges
    canary failure rates like the server's own controller.
    """

    def __init__(self, project: Project, counters: ArmCounters | None = None) -> None:
        self._project = project
        self._counters = counters

    def deploy(
        self, strategy: str, name: str, models: list[str], options: dict[str, Any], actor: str
    ) -> dict[str, Any]:
        function = _STRATEGIES.get(strategy)
        if function is None:
            raise InvalidInputError(
                f"Unknown deployment strategy {strategy!r}.",
                hint=f"Use one of {', '.join(_STRATEGIES)}.",
            )
        allowed = set(inspect.signature(function).parameters) - _FIXED
        unknown = sorted(set(options) - allowed)
        if unknown:
            raise InvalidInputError(
                f"Unknown option(s) for a {strategy} deployment: {', '.join(unknown)}.",
                hint=f"Options: {', '.join(sorted(allowed)) or 'none'}.",
            )
        if strategy == "bandit":
            result = function(self._project, name, models, actor=actor, **options)
        elif strategy == "single":
            ref = models[0] if models else None
            result = function(self._project, name, ref, actor=actor, **options)
        else:
            if not models:
                raise InvalidInputError(f"A {strategy} deployment needs a model.")
            result = function(self._project, name, models[0], actor=actor, **options)
        deployment = result[0] if isinstance(result, tuple) else result
        return dict(deployment.policy)

    def rollback(self, name: str, actor: str) -> dict[str, Any]:
        return dict(rollback(self._project, name, actor=actor).policy)

    def advance(self, name: str, actor: str) -> str:
        return advance(self._project, name, self._counters, actor=actor)

    def status(self, name: str) -> dict[str, Any]:
        return deployment_status(self._project, name)
