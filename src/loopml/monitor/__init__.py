"""loopml.monitor: drift of new data against the reference, data quality, prediction drift.

Typical use::

    from loopml.monitor import ReferenceProfile, compute_drift

    profile = ReferenceProfile.from_frame(train, contract)   # once per model version
    report = compute_drift(profile, window, model="churn:3", window={"start": "2024-05-01"})
    report.write("reports/2024-05")                          # drift.html + drift.json
"""

from loopml.monitor._checks import AUTO, default_test_name
from loopml.monitor._drift import compute_drift
from loopml.monitor._reference import ReferenceProfile
from loopml.monitor._report import DriftReport
from loopml.monitor.drift import (
    DriftResult,
    DriftTest,
    drift_tests,
    get_drift_test,
    register_drift_test,
)

__all__ = [
    "AUTO",
    "DriftReport",
    "DriftResult",
    "DriftTest",
    "ReferenceProfile",
    "compute_drift",
    "default_test_name",
    "drift_tests",
    "get_drift_test",
    "register_drift_test",
]
