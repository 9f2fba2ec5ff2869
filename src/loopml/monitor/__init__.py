"""loopml.monitor: drift of new data against the reference, data quality, prediction drift.

Typical use::

    from loopml.monitor import ReferenceProfile, compute_drift

    profile = ReferenceProfile.from_frame(train, contract)   # once per model version
    report = compute_drift(profile, window, model="churn:3", window={"start": "2024-05-01"})
    report.write("reports/2024-05")                          # drift.html + drift.json
"""

from loopml.monitor._alerts import (
    AlertOutcome,
    build_channels,
    fingerprint,
    raise_alerts,
    report_metrics,
)
from loopml.monitor._attribution import (
    ATTRIBUTION_THRESHOLD,
    attribution_drift,
    attribution_summary,
)
from loopml.monitor._channels import (
    AlertChannel,
    ChannelError,
    EmailChannel,
    LogChannel,
    WebhookChannel,
)
from loopml.monitor._checks import AUTO, default_test_name
from loopml.monitor._drift import compute_drift
from loopml.monitor._multivariate import domain_classifier_drift
from loopml.monitor._performance import (
    CBPE,
    join_feedback,
    performance_section,
    realized_performance,
)
from loopml.monitor._reference import ReferenceProfile
from loopml.monitor._report import DriftReport
from loopml.monitor._target import target_drift
from loopml.monitor.drift import (
    DriftResult,
    DriftTest,
    drift_tests,
    get_drift_test,
    register_drift_test,
)

__all__ = [
    "ATTRIBUTION_THRESHOLD",
    "AUTO",
    "CBPE",
    "AlertChannel",
    "AlertOutcome",
    "ChannelError",
    "DriftReport",
    "DriftResult",
    "DriftTest",
    "EmailChannel",
    "LogChannel",
    "ReferenceProfile",
    "WebhookChannel",
    "attribution_drift",
    "attribution_summary",
    "build_channels",
    "compute_drift",
    "default_test_name",
    "domain_classifier_drift",
    "drift_tests",
    "fingerprint",
    "get_drift_test",
    "join_feedback",
    "performance_section",
    "raise_alerts",
    "realized_performance",
    "register_drift_test",
    "report_metrics",
    "target_drift",
]
