"""Population Stability Index.

``PSI = Σ (c_i - r_i) · ln(c_i / r_i)`` over the reference's 10 quantile bins (numeric) or the
categories (categorical), where ``r_i``/``c_i`` are reference/current shares and an empty bin's
share is replaced by ``EPSILON``. Equal to the symmetrised Kullback-Leibler divergence
(``scipy.special.rel_entr`` both ways). Drifted when PSI >= 0.2 (the usual "major shift" rule;
0.1-0.2 is a moderate shift).
"""

from __future__ import annotations

import numpy as np

from loopml.monitor.drift._base import (
    Current,
    DriftResult,
    DriftTest,
    Reference,
    register_drift_test,
)
from loopml.monitor.drift._binned import binned_counts, shares

EPSILON = 1e-4
"""Share given to an empty bin, so the logarithm stays finite (Evidently's convention)."""


def smoothed_shares(counts: np.ndarray) -> np.ndarray:
    """Shares with empty bins set to ``EPSILON``."""
    values = shares(counts)
    return np.where(values == 0, EPSILON, values)


@register_drift_test
class PSITest(DriftTest):
    """Population Stability Index on reference quantile bins or categories."""

    name = "psi"
    applies_to = frozenset({"numeric", "categorical"})
    default_threshold = 0.2
    uses_p_value = False

    def compute(self, reference: Reference, current: Current) -> DriftResult:
        ref_counts, cur_counts = binned_counts(reference, current, self.name)
        ref, cur = smoothed_shares(ref_counts), smoothed_shares(cur_counts)
        return self.result(float(np.sum((cur - ref) * np.log(cur / ref))))
