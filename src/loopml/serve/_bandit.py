"""Thompson sampling between model versions on a binary reward from feedback.

Each arm has a Beta(alpha, beta) posterior of its reward rate (a uniform Beta(1, 1) prior plus
its successes and failures). A record goes to the arm whose posterior draw is highest, except
that a ``floor`` share of traffic per arm is always spread uniformly, so no arm stops being
explored. The resulting *allocation* (each arm's expected share) is ``floor + (1 - k * floor) *
P(arm is best)``, integrated numerically so the same posteriors always give the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from loopml.errors import InvalidInputError

REWARDS: tuple[str, ...] = ("correct", "label")
"""``correct``: 1 when the prediction equals the feedback label (classifiers). ``label``: the
feedback label is the reward itself (1/0, true/false, yes/no; e.g. a click or a conversion)."""

_TRUE = frozenset({"1", "1.0", "true", "yes", "y", "t"})
_FALSE = frozenset({"0", "0.0", "false", "no", "n", "f"})
_GRID = 4001


def check_floor(floor: float, n_arms: int) -> None:
    """Raises InvalidInputError unless ``0 <= floor`` and ``floor * n_arms <= 1``."""
    if not floor >= 0 or floor * n_arms > 1:
        raise InvalidInputError(
            f"The exploration floor must be in [0, 1/{n_arms}] for {n_arms} arms; got {floor}.",
            hint="For example --floor 0.05.",
        )


def reward(kind: str, prediction: Any, label: Any) -> float | None:
    """The 1/0 reward of one labelled prediction, or None when ``label`` is not a reward.

    Raises:
        InvalidInputError: unknown reward kind.
    """
    if kind == "correct":
        return 1.0 if str(prediction) == str(label) else 0.0
    if kind == "label":
        text = str(label).strip().lower()
        if isinstance(label, bool) or text in _TRUE or text in _FALSE:
            return 1.0 if (label is True or text in _TRUE) else 0.0
        return None
    raise InvalidInputError(
        f"Unknown bandit reward {kind!r}.", hint=f"Use one of {', '.join(REWARDS)}."
    )


def posterior(rewards: Sequence[float]) -> tuple[float, float]:
    """``(alpha, beta)`` of Beta(1, 1) updated with 1/0 ``rewards``."""
    successes = float(sum(rewards))
    return 1.0 + successes, 1.0 + (len(rewards) - successes)


def allocation(posteriors: Mapping[str, Sequence[float]], floor: float) -> dict[str, float]:
    """Each arm's expected traffic share under Thompson sampling with an exploration floor."""
    arms = list(posteriors)
    if not arms:
        return {}
    best = _probability_best([(float(posteriors[a][0]), float(posteriors[a][1])) for a in arms])
    spread = 1.0 - floor * len(arms)
    return {arm: round(floor + spread * float(p), 4) for arm, p in zip(arms, best, strict=True)}


def _probability_best(params: list[tuple[float, float]]) -> np.ndarray:
    """P(arm i draws highest) = integral of pdf_i(x) * prod_{j != i} cdf_j(x), on a grid spanning
    every posterior's bulk (exact for equal posteriors, no sampling noise)."""
    from scipy import stats  # a second to import: only when an allocation is computed

    low = min(float(stats.beta.ppf(1e-9, a, b)) for a, b in params)
    high = max(float(stats.beta.isf(1e-9, a, b)) for a, b in params)
    grid = np.linspace(low, high, _GRID)
    pdfs = np.array([stats.beta.pdf(grid, a, b) for a, b in params])
    cdfs = np.array([stats.beta.cdf(grid, a, b) for a, b in params])
    best = np.empty(len(params))
    for i in range(len(params)):
        others = np.prod(np.delete(cdfs, i, axis=0), axis=0)
        best[i] = np.trapezoid(pdfs[i] * others, grid)
    total = best.sum()
    return best / total if total > 0 else np.full(len(params), 1.0 / len(params))
