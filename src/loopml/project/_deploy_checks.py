"""Checks of a deployment: the blue-green smoke check and the status report."""

from __future__ import annotations

from typing import Any

from loopml.errors import LoopmlError
from loopml.project._deploy_stats import arm_stats, live_ref
from loopml.project._project import Project
from loopml.serve._rollout_stats import msprt


def smoke_check(project: Project, ref: str, live: str | None, sample: int = 100) -> dict[str, Any]:
    """Validate and score recent logged requests of ``live`` (or an example record) with
    ``ref``; ``{"passed", "records", "reason"}``."""
    from loopml.serve._interfaces import LoadedModel  # scoring machinery: only when checking

    version, bundle = project.registry.load(ref)
    model = LoadedModel(version.name, version.version, bundle)
    records: list[dict[str, Any]] = []
    if live is not None:
        live_version = project.registry.get(live)
        logged = project.store.predictions.list(
            model_name=live_version.name, model_version=live_version.version
        )
        records = [r.inputs for r in logged[-sample:]]
    if not records:
        records = [model.schema.example_record()]
    try:
        values = model.schema.validate(records)
        predicted = bundle.predict_frame(model.schema.frame(values))
    except (LoopmlError, ValueError, TypeError) as exc:
        return {"passed": False, "records": len(records), "reason": str(exc)}
    if len(predicted) != len(records) or predicted["prediction"].isna().any():
        return {"passed": False, "records": len(records), "reason": "missing predictions"}
    return {"passed": True, "records": len(records), "reason": ""}


def deployment_status(project: Project, name: str) -> dict[str, Any]:
    """The deployment's policy and, per arm, requests, failures, latency, agreement and feedback
    quality."""
    deployment = project.store.deployments.get(name)
    policy = deployment.policy
    stats = arm_stats(project, name, policy, since=policy.get("started_at"))
    body: dict[str, Any] = {
        "name": name,
        "kind": policy["kind"],
        "live": live_ref(policy),
        "policy": policy,
        "updated_at": deployment.updated_at.isoformat(),
        "arms": {arm: s.summary() for arm, s in stats.items()},
    }
    # Failed requests are not logged: every worker's counts since the policy last changed.
    counts = project.store.deployments.request_counts(name, deployment.updated_at)
    for arm, summary in body["arms"].items():
        summary["requests_this_step"], summary["failures_this_step"] = counts.get(arm, (0, 0))
    if policy["kind"] == "shadow":
        body["comparison"] = stats["shadow"].compare(stats["primary"])
    if policy["kind"] == "bandit":
        body["allocation"] = policy.get("allocation", {})
        for arm, summary in body["arms"].items():
            summary["share"] = policy.get("allocation", {}).get(arm)
            summary["posterior"] = policy.get("posteriors", {}).get(arm)
    if policy["kind"] == "ab":
        test = msprt(stats["a"].outcomes, stats["b"].outcomes, alpha=float(policy["alpha"]))
        body["test"] = {"p_value": test.p_value, "significant": test.significant}
    body["history"] = [
        {"time": e.time.isoformat(), "actor": e.actor, "reason": e.reason}
        for e in project.store.audit.list(target=f"deployment:{name}")
    ]
    return body
