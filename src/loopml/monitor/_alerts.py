"""Alert rules on monitor reports: evaluate, de-duplicate, deliver and record.

A rule (:class:`loopml.charter._model.AlertRule`) compares one number of a report with a
threshold. When it holds, the alert's *fingerprint* (project, rule, model) is looked up in
the store's alert history: if the same fingerprint fired less than ``cooldown`` ago the alert
is suppressed (neither sent nor recorded again); otherwise it is sent on the rule's channels
and recorded with the channels that delivered it.
"""

from __future__ import annotations

import hashlib
import logging
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from loopml.charter._model import AlertRule, AlertsSpec
from loopml.monitor._channels import (
    AlertChannel,
    ChannelError,
    EmailChannel,
    LogChannel,
    WebhookChannel,
)
from loopml.monitor._report import DriftReport
from loopml.store._base import AlertStore
from loopml.store._records import utcnow

logger = logging.getLogger("loopml.alerts")
COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


def report_metrics(report: DriftReport) -> dict[str, float]:
    """Every number of ``report`` an alert rule can name (booleans as 1.0 / 0.0)."""
    values: dict[str, float] = {
        "share_drifted": report.share_drifted,
        "dataset_drift": float(report.dataset_drift),
        "rows": float(report.n_current),
    }
    if report.prediction_drifted is not None:
        values["prediction_drift"] = float(report.prediction_drifted)
    for column, result in report.features.items():
        values[f"drift.{column}"] = float(result["statistic"])
    if report.multivariate is not None:
        values["multivariate_auc"] = float(report.multivariate["statistic"])
    if report.target_drift is not None:
        values["target_drift"] = float(report.target_drift["drifted"])
    if report.attribution_drift is not None:
        values["attribution_drift"] = float(report.attribution_drift["statistic"])
    for kind in ("estimated", "realized"):
        for name, value in ((report.performance or {}).get(kind) or {}).items():
            values[f"{kind}_{name}"] = float(value)
    for name, value in (report.operations or {}).items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            values[name] = float(value)
    return values


@dataclass
class AlertOutcome:
    """One rule that held on a report: sent (``delivered``/``failed`` per channel) or
    ``suppressed`` by the cooldown."""

    rule: str
    severity: str
    metric: str
    value: float
    threshold: float
    message: str
    fingerprint: str
    suppressed: bool = False
    delivered: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "metric": self.metric,
            "value": self.value,
            "threshold": self.threshold,
            "message": self.message,
            "fingerprint": self.fingerprint,
            "suppressed": self.suppressed,
            "delivered": self.delivered,
            "failed": self.failed,
        }


def rule_applies(rule: AlertRule, report: DriftReport) -> bool:
    """A rule with a ``window`` only judges reports over that window (``--window``)."""
    return rule.window is None or report.window.get("duration") == rule.window


def fingerprint(project: str, rule: str, model: str | None) -> str:
    """The identity of "the same alert" for de-duplication (64 hex digits)."""
    return hashlib.sha256(f"{project}\x1f{rule}\x1f{model or ''}".encode()).hexdigest()


def build_channels(spec: AlertsSpec) -> dict[str, AlertChannel]:
    """The channels the charter's alerts section configures (``log`` always)."""
    channels: dict[str, AlertChannel] = {"log": LogChannel()}
    if spec.webhook_url:
        channels["webhook"] = WebhookChannel(spec.webhook_url)
    if spec.email is not None:
        e = spec.email
        channels["email"] = EmailChannel(
            e.host,
            e.port,
            e.sender,
            e.to,
            starttls=e.starttls,
            username=e.username,
            password_env=e.password_env,
        )
    return channels


def raise_alerts(
    report: DriftReport,
    spec: AlertsSpec,
    store: AlertStore,
    *,
    project: str,
    model_name: str | None = None,
    model_version: int | None = None,
    channels: Mapping[str, AlertChannel] | None = None,
    now: datetime | None = None,
) -> list[AlertOutcome]:
    """Evaluate ``spec.rules`` on ``report``; send and record the alerts that fire.

    A channel that fails does not stop the others; its error is in the outcome's ``failed``
    and logged. Rules whose metric the report lacks are skipped. The outcomes (suppressed
    ones included) are also appended to ``report.alerts``.
    """
    moment = now or utcnow()
    available = channels if channels is not None else build_channels(spec)
    metrics = report_metrics(report)
    cooldown = timedelta(minutes=spec.cooldown_minutes)
    model = report.model or model_name
    outcomes: list[AlertOutcome] = []
    for rule in spec.rules:
        value = metrics.get(rule.metric)
        if value is None or not rule_applies(rule, report):
            continue
        if not COMPARISONS[rule.comparison](value, rule.threshold):
            continue
        outcome = AlertOutcome(
            rule=rule.name,
            severity=rule.severity,
            metric=rule.metric,
            value=value,
            threshold=rule.threshold,
            message=(
                f"{rule.name}: {rule.metric} = {value:.4g} {rule.comparison} {rule.threshold:g}"
                + (f" for {model}" if model else "")
            ),
            fingerprint=fingerprint(project, rule.name, model),
        )
        outcomes.append(outcome)
        last = store.last(outcome.fingerprint)
        if last is not None and moment - last.time < cooldown:
            outcome.suppressed = True
            continue
        _send(outcome, rule.channels, available, project=project, model=model, moment=moment)
        store.add(
            project,
            rule=rule.name,
            severity=rule.severity,
            metric=rule.metric,
            value=value,
            threshold=rule.threshold,
            message=outcome.message,
            fingerprint=outcome.fingerprint,
            channels=outcome.delivered,
            model_name=model_name,
            model_version=model_version,
            time=moment,
        )
    report.alerts = [o.to_dict() for o in outcomes]
    return outcomes


def _send(
    outcome: AlertOutcome,
    wanted: Sequence[str],
    available: Mapping[str, AlertChannel],
    *,
    project: str,
    model: str | None,
    moment: datetime,
) -> None:
    payload = {
        "project": project,
        "model": model,
        "rule": outcome.rule,
        "severity": outcome.severity,
        "metric": outcome.metric,
        "value": outcome.value,
        "threshold": outcome.threshold,
        "message": outcome.message,
        "time": moment.isoformat(),
    }
    for name in wanted:
        channel = available.get(name)
        if channel is None:
            outcome.failed[name] = f"the {name} channel is not configured"
            continue
        try:
            channel.send(payload)
        except ChannelError as exc:
            logger.error("alert %s not delivered on %s: %s", outcome.rule, name, exc)
            outcome.failed[name] = str(exc)
        else:
            outcome.delivered.append(name)
