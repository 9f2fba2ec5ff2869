"""Shared by the tests that compare binned distributions (PSI, Jensen-Shannon).

Numeric columns are binned on the reference's quantile bins; categorical columns on the union
of categories (reference first, then categories only the current window has).
"""

from __future__ import annotations

import numpy as np

from loopml.monitor.drift._base import (
    Current,
    Reference,
    categorical,
    numeric_current,
    numeric_reference,
)
from loopml.monitor.drift._summary import (
    CategoricalSummary,
    NumericSummary,
    align_categories,
    bin_counts,
)


def is_categorical(reference: Reference) -> bool:
    """Whether ``reference`` holds categories rather than numbers."""
    if isinstance(reference, CategoricalSummary):
        return True
    if isinstance(reference, NumericSummary):
        return False
    return np.asarray(reference).dtype.kind not in "iuf"


def binned_counts(reference: Reference, current: Current, test: str) -> tuple[np.ndarray, ...]:
    """Reference and current counts over the same bins (quantile bins or categories)."""
    if is_categorical(reference):
        _, ref_counts, cur_counts = align_categories(
            categorical(reference, "reference"), categorical(current, "current")
        )
        return ref_counts, cur_counts
    summary = numeric_reference(reference, test)
    return summary.counts, bin_counts(numeric_current(current, test), summary.cuts)


def shares(counts: np.ndarray) -> np.ndarray:
    """Counts as shares of their total."""
    return counts / counts.sum()
