"""How a retrained challenger that won reaches traffic: the charter's ``retraining.rollout``.

``direct`` moves the champion alias (see ``_retrain._apply``). ``canary`` and ``shadow`` leave the
alias where it is and start a canary or a shadow of the challenger on the deployment that serves
the champion, through the deployment machinery; from there the canary's own guardrails promote
or roll back (``loopml serve`` advances it, as does ``loopml deploy advance``), and a shadow is
compared on mirrored traffic until someone promotes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from loopml.errors import NotFoundError
from loopml.project._deploy import deploy_canary, deploy_shadow
from loopml.project._deploy_stats import live_ref
from loopml.project._project import Project
from loopml.store import ModelVersion

CANARY_STEPS = (0.25, 0.5, 1.0)
"""The canary's later weights, after the charter's first ``weight``."""


@dataclass(frozen=True)
class Rollout:
    """What the rollout did: ``strategy``, the ``deployment`` it changed (None for a direct
    switch or when none serves the champion) and a sentence."""

    strategy: str
    deployment: str | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"strategy": self.strategy, "deployment": self.deployment, "message": self.message}


def serving_deployment(project: Project, champion: ModelVersion) -> str | None:
    """The first deployment (by name) whose live model is ``champion``; None when none is."""
    for deployment in project.store.deployments.list():
        try:
            live = project.registry.get(live_ref(deployment.policy))
        except (NotFoundError, KeyError, StopIteration):
            continue  # another project's model, or a policy without a live arm
        if live.name == champion.name and live.version == champion.version:
            return deployment.name
    return None


def start_rollout(project: Project, champion: ModelVersion, challenger: ModelVersion) -> Rollout:
    """Start the charter's canary or shadow of ``challenger`` on the deployment named in
    ``retraining.rollout.deployment``, else on the one serving ``champion``.

    The canary starts at ``rollout.weight`` and ramps through 25%, 50% and 100% of the traffic
    while its guardrails hold; the shadow mirrors ``rollout.weight`` of the requests. Without a
    deployment to roll out on, nothing is changed and the message says so.

    Raises:
        NotFoundError: the named deployment does not exist.
    """
    spec = project.charter.retraining.rollout
    name = spec.deployment
    if name is not None:
        project.store.deployments.get(name)  # raises NotFoundError with the name
    else:
        name = serving_deployment(project, champion)
    if name is None:
        return Rollout(
            spec.strategy,
            None,
            f"no deployment serves {champion.ref}, so no {spec.strategy} was started; "
            "name one in retraining.rollout.deployment or deploy it by hand",
        )
    if spec.strategy == "canary":
        steps = (spec.weight, *(s for s in CANARY_STEPS if s > spec.weight))
        deploy_canary(project, name, challenger.ref, steps=steps, actor="loopml")
        message = f"canary of {challenger.ref} on {name!r} at {spec.weight:.0%}"
    else:
        deploy_shadow(project, name, challenger.ref, fraction=spec.weight, actor="loopml")
        message = f"shadow of {challenger.ref} on {name!r} for {spec.weight:.0%} of requests"
    return Rollout(spec.strategy, name, message)
