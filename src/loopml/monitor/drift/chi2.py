"""Pearson's χ² test of homogeneity on category counts.

``scipy.stats.chi2_contingency`` on the 2 x k table of reference and current counts over the
union of categories (a category only the current window has is a column of its own). No Yates
correction, so on two categories the test equals the two-proportion z-test Evidently uses for
binary columns. Drifted when p < 0.05.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import chi2_contingency

from loopml.monitor.drift._base import (
    Current,
    DriftResult,
    DriftTest,
    Reference,
    categorical,
    register_drift_test,
)
from loopml.monitor.drift._summary import align_categories


@register_drift_test
class Chi2Test(DriftTest):
    """χ² test that reference and current come from the same categorical distribution."""

    name = "chi2"
    applies_to = frozenset({"categorical"})
    default_threshold = 0.05
    uses_p_value = True

    def compute(self, reference: Reference, current: Current) -> DriftResult:
        _, ref_counts, cur_counts = align_categories(
            categorical(reference, "reference"), categorical(current, "current")
        )
        if ref_counts.size < 2:  # one category on both sides: nothing can differ
            return self.result(0.0, 1.0)
        test = chi2_contingency(np.vstack([ref_counts, cur_counts]), correction=False)
        return self.result(float(test.statistic), float(test.pvalue))
