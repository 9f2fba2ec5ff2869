"""Champion vs challenger: the promotion rule of the retraining loop."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Decision:
    """Whether the challenger replaces the champion, with the numbers behind it.

    ``improvement`` is signed so that positive always means the challenger is better, whatever
    the metric's direction.
    """

    promote: bool
    metric: str
    champion_score: float | None
    challenger_score: float | None
    improvement: float | None
    margin: float
    gates_passed: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "promote": self.promote,
            "metric": self.metric,
            "champion_score": self.champion_score,
            "challenger_score": self.challenger_score,
            "improvement": self.improvement,
            "margin": self.margin,
            "gates_passed": self.gates_passed,
            "reason": self.reason,
        }


def decide(
    *,
    metric: str,
    greater_is_better: bool,
    champion_score: float | None,
    challenger_score: float | None,
    margin: float,
    gates_passed: bool,
) -> Decision:
    """Promote the challenger only if it passed its gates and beats the champion, on the same
    holdout, by more than zero and by at least ``margin``.

    A champion whose score is undefined on the holdout loses to any challenger with a score;
    a challenger without a score never wins.
    """

    def result(promote: bool, improvement: float | None, reason: str) -> Decision:
        return Decision(
            promote,
            metric,
            champion_score,
            challenger_score,
            improvement,
            margin,
            gates_passed,
            reason,
        )

    if not gates_passed:
        return result(False, None, "the challenger failed its acceptance gates")
    if challenger_score is None or not math.isfinite(challenger_score):
        return result(False, None, f"the challenger's {metric} is undefined on the holdout")
    if champion_score is None or not math.isfinite(champion_score):
        return result(True, None, f"the champion's {metric} is undefined on the holdout")
    improvement = challenger_score - champion_score
    if not greater_is_better:
        improvement = -improvement
    direction = "higher" if greater_is_better else "lower"
    numbers = (
        f"{metric} {challenger_score:.4f} vs {champion_score:.4f} "
        f"({direction} is better; improvement {improvement:+.4f}, margin {margin:.4f})"
    )
    if improvement > 0 and improvement >= margin:
        return result(True, improvement, f"the challenger is better: {numbers}")
    return result(False, improvement, f"the challenger is not better by the margin: {numbers}")
