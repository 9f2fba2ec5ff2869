"""Statistics that rollouts decide on: prediction shift (PSI) and a sequential A/B test (mSPRT).

The A/B test is the mixture sequential probability ratio test of Johari, Pekelis & Walsh
("Always valid inference", 2017) for the difference of two means under a normal approximation,
with a N(0, tau^2) mixing distribution. Its p-value is valid at every look, so checking after
each new batch of feedback does not inflate false positives above ``alpha``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def psi(expected: Sequence[float], actual: Sequence[float], bins: int | None = None) -> float:
    """Population stability index of ``actual`` against ``expected`` on ``expected``'s quantiles.

    Without ``bins``, one bin per 25 observations of the smaller side (2 to 10): PSI of two
    samples of one distribution grows like ``(bins - 1) * (1/n1 + 1/n2)``, so few observations
    need few bins to stay near 0. Empty bins get a share of 0.5 observation so the index stays
    finite. Returns 0.0 when either side is empty.
    """
    reference = np.asarray(expected, dtype=float)
    current = np.asarray(actual, dtype=float)
    if reference.size == 0 or current.size == 0:
        return 0.0
    if bins is None:
        bins = max(2, min(10, min(reference.size, current.size) // 25))
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))
    ref_counts = np.bincount(
        np.searchsorted(edges, reference, side="right"), minlength=edges.size + 1
    )
    cur_counts = np.bincount(
        np.searchsorted(edges, current, side="right"), minlength=edges.size + 1
    )
    ref_share = (ref_counts + 0.5) / (reference.size + 0.5 * ref_counts.size)
    cur_share = (cur_counts + 0.5) / (current.size + 0.5 * cur_counts.size)
    return float(np.sum((cur_share - ref_share) * np.log(cur_share / ref_share)))


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile, or None without values."""
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else None


@dataclass(frozen=True)
class SequentialTest:
    """Result of :func:`msprt`: the always-valid p-value and whether B differs from A."""

    n_a: int
    n_b: int
    mean_a: float | None
    mean_b: float | None
    p_value: float
    significant: bool

    @property
    def winner(self) -> str | None:
        """``"a"`` or ``"b"`` when significant (the higher mean), else None."""
        if not self.significant or self.mean_a is None or self.mean_b is None:
            return None
        return "b" if self.mean_b > self.mean_a else "a"


def msprt(
    outcomes_a: Sequence[float],
    outcomes_b: Sequence[float],
    *,
    alpha: float = 0.05,
    tau: float = 0.1,
    min_samples: int = 30,
) -> SequentialTest:
    """The two-sample mSPRT of equal means; ``tau`` is the mixing scale of plausible lifts.

    Significant when the mixture likelihood ratio reaches ``1/alpha`` (p-value ``<= alpha``) and
    each arm has at least ``min_samples`` outcomes.
    """
    a = np.asarray(outcomes_a, dtype=float)
    b = np.asarray(outcomes_b, dtype=float)
    mean_a = float(a.mean()) if a.size else None
    mean_b = float(b.mean()) if b.size else None
    if a.size < min_samples or b.size < min_samples or mean_a is None or mean_b is None:
        return SequentialTest(int(a.size), int(b.size), mean_a, mean_b, 1.0, False)
    pooled = float(np.concatenate([a, b]).var(ddof=1))
    variance = max(pooled, 1e-12) * (1.0 / a.size + 1.0 / b.size)
    delta = mean_b - mean_a
    tau2 = tau * tau
    log_ratio = 0.5 * math.log(variance / (variance + tau2)) + (delta * delta * tau2) / (
        2.0 * variance * (variance + tau2)
    )
    p_value = min(1.0, math.exp(-log_ratio)) if log_ratio < 700 else 0.0
    return SequentialTest(int(a.size), int(b.size), mean_a, mean_b, p_value, p_value <= alpha)
