"""Fairness gates: the charter's fairness limits checked on each sensitive attribute.

One gate per limit and per single sensitive attribute (intersections are reported, not gated:
their groups are often too small to judge). A limit that cannot be checked (no sensitive column,
a regression model, fewer than two groups large enough) fails, saying why, like any gate whose
measurement is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from loopml.evaluate._gates import GateResult

_NUM = "{:.4g}"


@dataclass(frozen=True)
class _Limit:
    key: str  # in the fairness summary
    gate: str  # gate name prefix (the charter's field)
    label: str  # for people
    upper: bool  # True: the value must be at most the limit


_LIMITS = (
    _Limit(
        "demographic_parity_difference",
        "max_demographic_parity_difference",
        "demographic parity difference",
        True,
    ),
    _Limit(
        "equalized_odds_difference",
        "max_equalized_odds_difference",
        "equalized odds difference",
        True,
    ),
    _Limit("disparate_impact_ratio", "min_disparate_impact_ratio", "disparate impact ratio", False),
)


def fairness_gates(
    fairness: dict[str, Any] | None,
    *,
    task: str,
    max_demographic_parity_difference: float | None = None,
    max_equalized_odds_difference: float | None = None,
    min_disparate_impact_ratio: float | None = None,
) -> list[GateResult]:
    """Gates for each configured limit (``None`` = not checked) on ``fairness``
    (:func:`loopml.evaluate._fairness.fairness_summary` output)."""
    configured = {
        "max_demographic_parity_difference": max_demographic_parity_difference,
        "max_equalized_odds_difference": max_equalized_odds_difference,
        "min_disparate_impact_ratio": min_disparate_impact_ratio,
    }
    results: list[GateResult] = []
    single = [a for a in (fairness or {}).get("attributes", []) if len(a["columns"]) == 1]
    for limit in _LIMITS:
        value = configured[limit.gate]
        if value is None:
            continue
        if task == "regression":
            results.append(_unchecked(limit, value, "it is not defined for a regression model"))
        elif not single:
            results.append(
                _unchecked(limit, value, "no sensitive column of the data contract is in the data")
            )
        else:
            results += [_check(limit, value, attribute) for attribute in single]
    return results


def _unchecked(limit: _Limit, value: float, why: str) -> GateResult:
    return GateResult(
        limit.gate,
        False,
        None,
        value,
        f"The {limit.label} limit of {_NUM.format(value)} cannot be checked: {why}.",
    )


def _check(limit: _Limit, bound: float, attribute: dict[str, Any]) -> GateResult:
    name = attribute["name"]
    gate = f"{limit.gate}:{name}"
    measured = attribute.get(limit.key)
    if measured is None:
        return GateResult(
            gate,
            False,
            None,
            bound,
            f"The {limit.label} for {name!r} could not be computed (fewer than two groups "
            f"large enough to measure), so the limit of {_NUM.format(bound)} is not met.",
        )
    value, fmt = float(measured), _NUM.format
    passed = value <= bound if limit.upper else value >= bound
    gap = abs(bound - value)
    if passed:
        side = "within the maximum" if limit.upper else "at or above the minimum"
        message = f"The {limit.label} for {name!r} is {fmt(value)}, {side} of {fmt(bound)}."
    else:
        side = "above the limit" if limit.upper else "below the limit"
        message = (
            f"The {limit.label} for {name!r} is {fmt(value)}, {side} {fmt(bound)} by {fmt(gap)}."
        )
    return GateResult(gate, passed, value, bound, message)
