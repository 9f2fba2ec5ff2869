"""Two-sample Kolmogorov-Smirnov test (``scipy.stats.ks_2samp``, two-sided, method ``auto``).

Reads raw reference values: all of them in exact-data mode, else the profile's seeded sample
(at most 5,000 values). Drifted when p < 0.05.
"""

from __future__ import annotations

from scipy.stats import ks_2samp

from loopml.monitor.drift._base import (
    Current,
    DriftResult,
    DriftTest,
    Reference,
    numeric_current,
    reference_values,
    register_drift_test,
)


@register_drift_test
class KSTest(DriftTest):
    """Kolmogorov-Smirnov test that both samples come from the same continuous distribution."""

    name = "ks"
    applies_to = frozenset({"numeric"})
    default_threshold = 0.05
    uses_p_value = True

    def compute(self, reference: Reference, current: Current) -> DriftResult:
        ref = reference_values(reference, self.name)
        test = ks_2samp(ref, numeric_current(current, self.name))
        return self.result(float(test.statistic), float(test.pvalue))
