"""Whether one candidate's cross-validated lead over another is more than fold noise."""

from __future__ import annotations

import math

import numpy as np

from loopml.train._result import CandidateResult


def within_noise(
    best: CandidateResult, other: CandidateResult, sign: float, standard_errors: float = 1.0
) -> bool:
    """Whether ``best`` beats ``other`` by at most ``standard_errors`` standard errors of their
    paired per-fold differences, on the folds both were scored on (at least three)."""
    k = min(len(best.fold_scores), len(other.fold_scores))
    a, b = np.asarray(best.fold_scores[:k], float), np.asarray(other.fold_scores[:k], float)
    if k < 3 or not (np.isfinite(a).all() and np.isfinite(b).all()):
        return False
    differences = sign * (a - b)
    error = float(differences.std(ddof=1)) / math.sqrt(len(differences))
    return float(differences.mean()) <= standard_errors * error


def search_optimism(trials: int) -> float:
    """How many standard errors the cross-validated score of the best of ``trials``
    configurations is expected to flatter it by: sqrt(2 ln n), the expected maximum of n
    independent standard normal estimates (an upper bound for correlated ones); at least 1."""
    return max(1.0, math.sqrt(2.0 * math.log(trials))) if trials > 1 else 1.0
