"""``loopml deploy``: named deployments and their rollouts, stored in ``store.deployments``.

Every change is a ``store.deployments.put`` (audited, with the previous policy and a reason). The
serving app compiles the stored policies into routing tables and reloads them on refresh; the
rollout controller (:func:`advance`) runs there too, and from ``loopml deploy advance``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from loopml.errors import ConflictError, GateFailedError, InvalidInputError, NotFoundError
from loopml.project._deploy_checks import deployment_status, smoke_check
from loopml.project._deploy_stats import arm_stats, guardrail_checks, live_ref
from loopml.project._project import Project
from loopml.registry import CHAMPION
from loopml.serve._arm_counters import ArmCounters
from loopml.serve._bandit import REWARDS, allocation, check_floor, posterior, reward
from loopml.serve._rollout_stats import msprt
from loopml.serve._routing import compile_policy
from loopml.store import Deployment
from loopml.store._records import utcnow

__all__ = [
    "advance",
    "deploy_ab",
    "deploy_bandit",
    "deploy_blue_green",
    "deploy_canary",
    "deploy_shadow",
    "deploy_single",
    "deployment_status",
    "live_ref",
    "rollback",
    "smoke_check",
]


def deploy_single(
    project: Project, name: str, ref: str | None = None, *, actor: str = "loopml", reason: str = ""
) -> Deployment:
    """Serve one model reference (default ``<project>@champion``, followed as it moves)."""
    model = ref or f"{project.name}@{CHAMPION}"
    return _put(project, name, {"kind": "single", "model": model}, actor, reason or "deploy single")


def deploy_blue_green(
    project: Project, name: str, ref: str, *, sample: int = 100, actor: str = "loopml"
) -> tuple[Deployment, dict[str, Any]]:
    """Stage ``ref`` beside the live model, smoke-check it, then switch all traffic at once.

    The smoke check validates and scores up to ``sample`` of the live model's most recent logged
    requests (or the contract's example record when none are logged) with the new version.

    Raises:
        GateFailedError: the smoke check failed; the deployment is left as it was.
    """
    current = _current(project, name)
    live = _pin(project, live_ref(current.policy)) if current else None
    staged = _pin(project, ref)
    smoke = smoke_check(project, staged, live)
    if not smoke["passed"]:
        raise GateFailedError(
            f"The smoke check of {staged} failed: {smoke['reason']}",
            hint="Fix the model, or deploy it as a canary to watch it on live traffic.",
        )
    was = current.policy if current and current.policy.get("kind") == "blue-green" else None
    live_colour = "green" if was is None or was["live"] == "blue" else "blue"
    idle = "blue" if live_colour == "green" else "green"
    policy = {"kind": "blue-green", "live": live_colour, live_colour: staged, idle: live}
    reason = f"blue-green switch to {staged} ({live_colour}); smoke check on {smoke['records']}"
    return _put(project, name, policy, actor, reason + " record(s) passed"), smoke


def deploy_canary(
    project: Project,
    name: str,
    ref: str,
    *,
    steps: Sequence[float] = (0.05, 0.25, 0.5, 1.0),
    min_requests: int = 100,
    step_seconds: float = 0.0,
    max_error_rate: float = 0.02,
    max_p99_ms: float | None = None,
    max_psi: float = 0.25,
    max_metric_drop: float = 0.05,
    min_feedback: int = 30,
    auto_promote: bool = True,
    stable: str | None = None,
    actor: str = "loopml",
) -> Deployment:
    """Send ``steps[0]`` of the traffic to ``ref``, ramping through ``steps`` while guardrails
    hold (see :func:`advance`); a breach rolls back to the stable model automatically."""
    weights = [float(w) for w in steps]
    if not weights or any(not 0 < w <= 1 for w in weights) or weights != sorted(weights):
        raise InvalidInputError(
            f"Canary steps must be increasing weights in (0, 1]; got {list(steps)}.",
            hint="For example --steps 0.05,0.25,0.5,1.",
        )
    now = utcnow().isoformat()
    policy = {
        "kind": "canary",
        "stable": _pin(project, stable or _stable_ref(project, name)),
        "candidate": _pin(project, ref),
        "weight": weights[0],
        "steps": weights,
        "step": 0,
        "status": "running",
        "auto_promote": auto_promote,
        "min_requests": min_requests,
        "step_seconds": step_seconds,
        "guardrails": {
            "max_error_rate": max_error_rate,
            "max_p99_ms": max_p99_ms,
            "max_psi": max_psi,
            "max_metric_drop": max_metric_drop,
            "min_feedback": min_feedback,
        },
        "started_at": now,
        "step_started_at": now,
    }
    return _put(
        project, name, policy, actor, f"canary of {policy['candidate']} at {weights[0]:.0%}"
    )


def deploy_shadow(
    project: Project,
    name: str,
    ref: str,
    *,
    fraction: float = 1.0,
    primary: str | None = None,
    actor: str = "loopml",
) -> Deployment:
    """Mirror ``fraction`` of the requests to ``ref`` in the background; the primary answers."""
    _check_share("fraction", fraction)
    policy = {
        "kind": "shadow",
        "primary": _pin(project, primary or _stable_ref(project, name)),
        "shadow": _pin(project, ref),
        "fraction": fraction,
    }
    return _put(project, name, policy, actor, f"shadow {policy['shadow']} on {fraction:.0%}")


def deploy_ab(
    project: Project,
    name: str,
    ref: str,
    *,
    key: str,
    split: float = 0.5,
    alpha: float = 0.05,
    min_samples: int = 100,
    auto_promote: bool = True,
    control: str | None = None,
    actor: str = "loopml",
) -> Deployment:
    """A/B test: records assigned to B (``ref``) by a hash of their ``key`` field with share
    ``split``; outcome = correctness from feedback; an mSPRT at level ``alpha`` decides."""
    _check_share("split", split)
    policy = {
        "kind": "ab",
        "a": _pin(project, control or _stable_ref(project, name)),
        "b": _pin(project, ref),
        "split": split,
        "key": key,
        "alpha": alpha,
        "min_samples": min_samples,
        "auto_promote": auto_promote,
        "status": "running",
        "started_at": utcnow().isoformat(),
    }
    return _put(project, name, policy, actor, f"A/B test of {policy['b']} on {split:.0%} by {key}")


def deploy_bandit(
    project: Project,
    name: str,
    refs: Sequence[str],
    *,
    floor: float = 0.05,
    reward_kind: str = "correct",
    actor: str = "loopml",
) -> Deployment:
    """Thompson sampling between ``refs`` (two or more) on a binary reward from feedback.

    Every arm starts from a uniform Beta(1, 1) posterior; :func:`advance` (run by the server on
    each refresh, and by ``loopml deploy advance``) recomputes the posteriors from the feedback
    joined to each arm's logged predictions, and records every change in the audit log. Each arm
    keeps at least ``floor`` of the traffic.

    Raises:
        InvalidInputError: fewer than two distinct models, an unknown reward, or a floor that
            leaves no room for exploitation.
        NotFoundError: an unknown model.
    """
    pinned = [_pin(project, ref) for ref in refs]
    if len(pinned) < 2 or len(set(pinned)) != len(pinned):
        raise InvalidInputError(
            f"A bandit needs two or more distinct model versions; got {', '.join(pinned)}.",
            hint="For example: loopml deploy bandit NAME --models churn:1 churn:2.",
        )
    if reward_kind not in REWARDS:
        raise InvalidInputError(
            f"Unknown bandit reward {reward_kind!r}.", hint=f"Use one of {', '.join(REWARDS)}."
        )
    check_floor(floor, len(pinned))
    posteriors = {ref: [1.0, 1.0] for ref in pinned}
    policy = {
        "kind": "bandit",
        "arms": {ref: ref for ref in pinned},
        "posteriors": posteriors,
        "floor": floor,
        "reward": reward_kind,
        "allocation": allocation(posteriors, floor),
        "rewards": {ref: 0 for ref in pinned},
        "status": "running",
        "started_at": utcnow().isoformat(),
    }
    return _put(project, name, policy, actor, f"bandit over {', '.join(pinned)}")


def rollback(project: Project, name: str, *, actor: str = "loopml") -> Deployment:
    """Switch back at once: blue-green to the other colour; canary, shadow and A/B to their
    stable model; a bandit to its first model; a single deployment to the policy it had before
    its last change.

    Raises:
        NotFoundError: no such deployment, or nothing to roll back to.
    """
    deployment = project.store.deployments.get(name)
    policy = dict(deployment.policy)
    kind = policy["kind"]
    if kind == "blue-green":
        other = "blue" if policy["live"] == "green" else "green"
        if not policy.get(other):
            raise NotFoundError(f"Deployment {name!r} has no previous colour to switch back to.")
        policy["live"] = other
    elif kind == "canary":
        policy.update(status="rolled_back", reason="rolled back by hand")
    elif kind in ("shadow", "ab"):
        policy = {"kind": "single", "model": policy["primary" if kind == "shadow" else "a"]}
    elif kind == "bandit":
        policy = {"kind": "single", "model": next(iter(policy["arms"].values()))}
    else:
        previous = [
            e.details.get("previous")
            for e in project.store.audit.list(target=f"deployment:{name}")
            if e.details.get("previous") and e.details.get("previous") != deployment.policy
        ]
        if not previous:
            raise NotFoundError(f"Deployment {name!r} has no earlier policy to roll back to.")
        policy = dict(previous[-1] or {})
    return _put(project, name, policy, actor, f"rollback of {name} to {live_ref(policy)}")


def advance(
    project: Project, name: str, counters: ArmCounters | None = None, *, actor: str = "loopml"
) -> str:
    """One step of the rollout controller; returns what it did, in words.

    Canary: with ``min_requests`` on the candidate in this step, checks the guardrails (failure
    rate from the request counts every serving worker reports to the store, ``counters``' own
    reported first; p99 latency and prediction PSI from the log, the live metric once
    ``min_feedback`` labels arrived); a breach rolls back, a clean step ramps to the next weight,
    and after the last one promotes when ``auto_promote``. A/B: runs the sequential test and
    routes everything to a significant winner when ``auto_promote``. Bandit: recomputes each
    arm's Beta posterior from its rewards and the allocation that follows. A deployment changed
    while it was judged (by another worker's controller or a person) is left as that change
    made it, and the answer says so.
    """
    deployment = project.store.deployments.get(name)
    try:
        return _advance(project, deployment, counters, actor)
    except ConflictError:
        # Another worker's controller (or a person) changed the deployment since it was read.
        return f"{name} changed meanwhile; nothing done this time"


def _advance(
    project: Project, deployment: Deployment, counters: ArmCounters | None, actor: str
) -> str:
    name, read_at = deployment.name, deployment.updated_at
    policy = dict(deployment.policy)
    if policy["kind"] == "canary" and policy.get("status") == "running":
        if counters is not None:
            counters.report(project.store.deployments)
        failures = project.store.deployments.request_counts(name, read_at)
        return _advance_canary(project, name, policy, failures, actor, read_at)
    if policy["kind"] == "ab" and policy.get("status") == "running":
        stats = arm_stats(project, name, policy, since=policy.get("started_at"))
        test = msprt(
            stats["a"].outcomes,
            stats["b"].outcomes,
            alpha=float(policy["alpha"]),
            min_samples=int(policy["min_samples"]),
        )
        if test.winner is None or not policy.get("auto_promote", True):
            return f"A/B test running (p = {test.p_value:.4f}, n = {test.n_a}/{test.n_b})"
        policy.update(status="concluded", winner=test.winner, p_value=test.p_value)
        reason = f"A/B winner {test.winner} (p={test.p_value:.4g})"
        _put(project, name, policy, actor, reason, if_updated_at=read_at)
        return f"A/B test concluded: {test.winner} wins (p = {test.p_value:.4f})"
    if policy["kind"] == "bandit" and policy.get("status") == "running":
        return _advance_bandit(project, name, policy, actor, read_at)
    return f"{policy['kind']} deployment: nothing to advance"


def _advance_bandit(
    project: Project, name: str, policy: dict[str, Any], actor: str, read_at: datetime
) -> str:
    """Posteriors recomputed from all feedback since the start; audited when they change."""
    stats = arm_stats(project, name, policy, since=policy.get("started_at"))
    kind = str(policy.get("reward", "correct"))
    posteriors: dict[str, list[float]] = {}
    counts: dict[str, int] = {}
    for arm, arm_stat in stats.items():
        rewards = [
            r
            for prediction, label in arm_stat.labelled()
            if (r := reward(kind, prediction, label)) is not None
        ]
        posteriors[arm] = list(posterior(rewards))
        counts[arm] = len(rewards)
    shares = allocation(posteriors, float(policy.get("floor", 0.0)))
    described = ", ".join(f"{arm} {share:.0%}" for arm, share in shares.items())
    if posteriors == policy.get("posteriors"):
        return f"bandit unchanged: {described}"
    policy.update(posteriors=posteriors, allocation=shares, rewards=counts)
    policy["updated_from_feedback_at"] = utcnow().isoformat()
    seen = ", ".join(f"{arm} {n}" for arm, n in counts.items())
    reason = f"bandit allocation {described} (rewards: {seen})"
    _put(project, name, policy, actor, reason, if_updated_at=read_at)
    return f"bandit allocation {described}"


def _advance_canary(
    project: Project,
    name: str,
    policy: dict[str, Any],
    failures: dict[str, tuple[int, int]],
    actor: str,
    read_at: datetime,
) -> str:
    stats = arm_stats(project, name, policy, since=policy["step_started_at"])
    # Failed requests are counted but never logged: a candidate failing them all still counts.
    served = max(stats["candidate"].n, failures.get("candidate", (0, 0))[0])
    if served < int(policy["min_requests"]):
        return f"canary waiting: {served}/{policy['min_requests']} candidate requests"
    checks = guardrail_checks(stats, failures, policy["guardrails"])
    breached = [c for c in checks if c["breached"]]
    if breached:
        reasons = "; ".join(f"{c['name']} {c['value']:.4g} > {c['limit']:.4g}" for c in breached)
        policy.update(status="rolled_back", reason=f"guardrail breached: {reasons}", checks=checks)
        _put(project, name, policy, actor, f"canary rolled back: {reasons}", if_updated_at=read_at)
        return f"canary rolled back: {reasons}"
    elapsed = (utcnow() - _parse_time(policy["step_started_at"])).total_seconds()
    if elapsed < float(policy.get("step_seconds", 0.0)):
        return "canary healthy; waiting for the step to last its duration"
    step = int(policy["step"]) + 1
    if step < len(policy["steps"]):
        policy.update(step=step, weight=policy["steps"][step], checks=checks)
        policy["step_started_at"] = utcnow().isoformat()
        reason = f"canary ramped to {policy['weight']:.0%}"
        _put(project, name, policy, actor, reason, if_updated_at=read_at)
        return f"canary ramped to {policy['weight']:.0%}"
    if not policy.get("auto_promote", True):
        return "canary finished its steps; waiting for a manual promotion"
    policy.update(status="promoted", checks=checks)
    reason = f"canary promoted: {policy['candidate']}"
    _put(project, name, policy, actor, reason, if_updated_at=read_at)
    return f"canary promoted: {policy['candidate']}"


def _put(
    project: Project,
    name: str,
    policy: dict[str, Any],
    actor: str,
    reason: str,
    *,
    if_updated_at: datetime | None = None,
) -> Deployment:
    _, arms = compile_policy(policy)
    for ref in arms.values():
        project.registry.get(ref)
    return project.store.deployments.put(
        name, policy, actor=actor, reason=reason, if_updated_at=if_updated_at
    )


def _current(project: Project, name: str) -> Deployment | None:
    try:
        return project.store.deployments.get(name)
    except NotFoundError:
        return None


def _stable_ref(project: Project, name: str) -> str:
    current = _current(project, name)
    return live_ref(current.policy) if current else f"{project.name}@{CHAMPION}"


def _pin(project: Project, ref: str) -> str:
    return project.registry.get(ref).ref


def _check_share(what: str, value: float) -> None:
    if not 0 < value <= 1:
        raise InvalidInputError(f"The {what} must be in (0, 1]; got {value}.")


def _parse_time(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text)
