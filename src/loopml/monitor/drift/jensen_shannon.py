"""Jensen-Shannon distance (``scipy.spatial.distance.jensenshannon``, natural logarithm).

Computed on the reference's 10 quantile bins (numeric) or on the categories (categorical),
without smoothing. Bounded by ``sqrt(ln 2) ≈ 0.83``; drifted when the distance >= 0.1
(Evidently's default for categorical columns of more than 1,000 reference rows).
"""

from __future__ import annotations

from scipy.spatial.distance import jensenshannon

from loopml.monitor.drift._base import (
    Current,
    DriftResult,
    DriftTest,
    Reference,
    register_drift_test,
)
from loopml.monitor.drift._binned import binned_counts, shares


@register_drift_test
class JensenShannonTest(DriftTest):
    """Jensen-Shannon distance between the binned reference and current distributions."""

    name = "jensenshannon"
    applies_to = frozenset({"numeric", "categorical"})
    default_threshold = 0.1
    uses_p_value = False

    def compute(self, reference: Reference, current: Current) -> DriftResult:
        ref_counts, cur_counts = binned_counts(reference, current, self.name)
        return self.result(float(jensenshannon(shares(ref_counts), shares(cur_counts))))
