"""Target drift: the labels that arrived for a window against the training labels."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from loopml.monitor._checks import AUTO, TestChoice, check_column
from loopml.monitor._reference import ReferenceProfile


def target_drift(
    profile: ReferenceProfile,
    labels: Sequence[Any],
    *,
    numeric_test: str = AUTO,
    categorical_test: str = AUTO,
) -> dict[str, Any] | None:
    """Drift of the ground truth ``labels`` of a window against the reference's target.

    The test is chosen like a feature's (``auto``: Evidently's defaults by type and reference
    size). Returns None when the profile has no target summary or no label is given; else
    ``{"column", "test", "statistic", "p_value", "threshold", "drifted", "type",
    "n_reference", "n_current", "distribution"}``.

    Raises:
        InvalidInputError: an unknown test, or one that does not fit the target's type.
    """
    if profile.target is None or profile.target_name is None or len(labels) == 0:
        return None
    choice = TestChoice(numeric_test, categorical_test)
    choice.validate()
    test, kind = choice.pick(profile.target_name, profile.target)
    check = check_column(profile.target, pd.Series(list(labels)), test, kind, None)
    if check.result is None:
        return None
    return {
        "column": profile.target_name,
        **check.result,
        "n_reference": profile.target.n,
        "n_current": len(labels),
        "distribution": check.distribution,
    }
