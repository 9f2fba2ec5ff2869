"""Wasserstein-1 (earth mover's) distance normed by the reference standard deviation.

``wasserstein_distance(reference, current) / max(std(reference), 0.001)`` — Evidently's
normalisation, so the threshold 0.1 means "the mass moved about a tenth of a standard
deviation". The distance equals ``scipy.stats.wasserstein_distance``; it is computed here by
merging the sorted samples once, which avoids scipy's repeated argsorts on large windows. Reads
all reference values in exact-data mode, else the profile's sample; the standard deviation is
the full reference's either way.
"""

from __future__ import annotations

import numpy as np

from loopml.monitor.drift._base import (
    Current,
    DriftResult,
    DriftTest,
    Reference,
    numeric_current,
    reference_values,
    register_drift_test,
)
from loopml.monitor.drift._summary import NumericSummary

MIN_NORM = 0.001


def wasserstein_sorted(first: np.ndarray, second: np.ndarray) -> float:
    """W1 distance ∫ |F_first(x) - F_second(x)| dx of two samples (fast when both are sorted).

    A stable argsort of the two sorted runs is a linear merge (timsort), after which both
    empirical CDFs are running counts; ties between the samples span zero width, so their
    order does not matter.
    """
    if first.size == second.size:
        # Equal sizes: both quantile functions step at the same i/n, so W1 is the mean gap
        # between the sorted samples — one linear pass, no merge.
        return float(np.abs(first - second).mean())
    values = np.concatenate((first, second))
    order = np.argsort(values, kind="stable")
    merged = values[order]
    from_first = np.cumsum(order < first.size)[:-1]
    from_second = np.arange(1, merged.size) - from_first
    gap = np.abs(from_first / first.size - from_second / second.size)
    return float(np.dot(gap, np.diff(merged)))


def _sorted(values: np.ndarray) -> np.ndarray:
    """``values`` sorted; the exact data of a summary is stored sorted and not copied again."""
    return values if bool(np.all(values[1:] >= values[:-1])) else np.sort(values)


@register_drift_test
class WassersteinTest(DriftTest):
    """Normed Wasserstein distance between reference and current values."""

    name = "wasserstein"
    applies_to = frozenset({"numeric"})
    default_threshold = 0.1
    uses_p_value = False

    def compute(self, reference: Reference, current: Current) -> DriftResult:
        ref = reference_values(reference, self.name)
        std = reference.std if isinstance(reference, NumericSummary) else float(np.std(ref))
        distance = wasserstein_sorted(_sorted(ref), numeric_current(current, self.name))
        return self.result(distance / max(std, MIN_NORM))
