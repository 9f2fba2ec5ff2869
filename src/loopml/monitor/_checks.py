"""One column's drift check: which test, its result, data quality and the plotted bins.

Default tests follow Evidently's data-drift preset, so verdicts can be compared with it:

===========  =========================  ==============================
column       reference ≤ 1,000 values   reference > 1,000 values
===========  =========================  ==============================
numeric      ``ks`` (p < 0.05)          ``wasserstein`` (normed ≥ 0.1)
categorical  ``chi2`` (p < 0.05)        ``jensenshannon`` (≥ 0.1)
===========  =========================  ==============================

A numeric column with at most 5 distinct reference values is tested as categorical.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from loopml.data._contract import ColumnSpec
from loopml.errors import InvalidInputError
from loopml.monitor._columns import numeric_values
from loopml.monitor.drift import (
    CategoricalSummary,
    ColumnSummary,
    DriftTest,
    Kind,
    NumericSummary,
    drift_tests,
    get_drift_test,
)
from loopml.monitor.drift._summary import align_categories, plot_counts

AUTO = "auto"
SMALL_REFERENCE = 1_000
LOW_CARDINALITY = 5
MAX_PLOT_CATEGORIES = 30
MAX_LISTED_UNSEEN = 20
OTHER = "(other)"


def effective_kind(summary: ColumnSummary) -> Kind:
    """How a column is tested: a numeric one with ≤ 5 distinct values counts as categorical."""
    if isinstance(summary, CategoricalSummary):
        return "categorical"
    discrete = summary.discrete
    if discrete is not None and len(discrete.categories) <= LOW_CARDINALITY:
        return "categorical"
    return "numeric"


def default_test_name(kind: Kind, n_reference: int) -> str:
    """Evidently's choice for ``kind`` and the reference's number of non-null values."""
    if kind == "numeric":
        return "ks" if n_reference <= SMALL_REFERENCE else "wasserstein"
    return "chi2" if n_reference <= SMALL_REFERENCE else "jensenshannon"


@dataclass(frozen=True)
class TestChoice:
    """The tests asked for: per kind (``auto`` = the default above) and per column."""

    numeric: str = AUTO
    categorical: str = AUTO
    overrides: dict[str, str] = field(default_factory=dict)

    def validate(self) -> None:
        """Raises InvalidInputError for an unknown test or one that does not fit its kind."""
        for kind, name in (("numeric", self.numeric), ("categorical", self.categorical)):
            if name != AUTO and kind not in get_drift_test(name).applies_to:
                raise InvalidInputError(
                    f"Drift test {name!r} does not apply to {kind} columns.",
                    hint=f"Choose a {kind} test, or 'auto'.",
                )
        for name in self.overrides.values():
            get_drift_test(name)

    def pick(self, column: str, summary: ColumnSummary) -> tuple[DriftTest, Kind]:
        """The test for ``column`` and the kind it compares the column as.

        Raises:
            InvalidInputError: the column's override does not apply to its type.
        """
        kind = effective_kind(summary)
        name = self.overrides.get(column)
        if name is None:
            name = self.numeric if kind == "numeric" else self.categorical
            if name == AUTO:
                name = default_test_name(kind, summary.n)
            return get_drift_test(name), kind
        test = get_drift_test(name)
        declared: Kind = "numeric" if isinstance(summary, NumericSummary) else "categorical"
        for candidate in (kind, declared):
            if candidate in test.applies_to:
                return test, candidate
        raise InvalidInputError(
            f"Drift test {name!r} does not apply to column {column!r}, which is {kind}.",
            hint=f"Use a test for {kind} columns: {', '.join(_tests_for(kind))}.",
        )


def _tests_for(kind: Kind) -> list[str]:
    return [name for name, cls in drift_tests().items() if kind in cls.applies_to]


@dataclass
class ColumnCheck:
    """What one column contributes to a drift report."""

    result: dict[str, Any] | None
    quality: dict[str, Any]
    distribution: dict[str, Any] | None
    skipped: str | None = None


def check_column(
    summary: ColumnSummary,
    series: pd.Series,
    test: DriftTest,
    kind: Kind,
    spec: ColumnSpec | None,
) -> ColumnCheck:
    """Run ``test`` on ``series`` (the current window) against the reference ``summary``."""
    quality: dict[str, Any] = {
        "null_share_reference": _share(summary.n_null, summary.n + summary.n_null),
        "null_share_current": 0.0,
        "out_of_range_share": None,
    }
    reference: ColumnSummary
    current: np.ndarray | CategoricalSummary
    if isinstance(summary, NumericSummary):
        ordered, n_null = numeric_values(series)
        ordered.sort()  # our own copy: sorted in place
        quality.update(_numeric_quality(summary, ordered, spec))
        if kind == "numeric":
            reference, current = summary, ordered
        else:
            reference = summary.discrete or summary
            current = CategoricalSummary.from_values(ordered)
    else:
        current = CategoricalSummary.from_values(series)
        reference, n_null = summary, current.n_null
    quality["null_share_current"] = _share(n_null, len(series))
    if isinstance(current, CategoricalSummary) and isinstance(reference, CategoricalSummary):
        quality.update(_categorical_quality(reference, current, spec))
    n_current = current.n if isinstance(current, CategoricalSummary) else current.size
    if n_current == 0:
        return ColumnCheck(None, quality, None, "the current window has no non-null value")
    outcome = test.compute(reference, current)
    result = {
        "test": test.name,
        "statistic": outcome.statistic,
        "p_value": outcome.p_value,
        "threshold": outcome.threshold,
        "drifted": outcome.drifted,
        "type": kind,
    }
    return ColumnCheck(result, quality, _distribution(reference, current))


def _share(part: int, whole: int) -> float:
    return float(part / whole) if whole else 0.0


def _numeric_quality(
    summary: NumericSummary, ordered: np.ndarray, spec: ColumnSpec | None
) -> dict[str, Any]:
    below = np.searchsorted(ordered, summary.min, side="left")
    above = ordered.size - np.searchsorted(ordered, summary.max, side="right")
    quality: dict[str, Any] = {
        "outside_reference_range_share": _share(int(below + above), ordered.size),
    }
    if spec is not None and (spec.min is not None or spec.max is not None):
        low = 0 if spec.min is None else np.searchsorted(ordered, spec.min, side="left")
        high = 0 if spec.max is None else ordered.size - np.searchsorted(ordered, spec.max, "right")
        quality["out_of_range_share"] = _share(int(low + high), ordered.size)
    return quality


def _categorical_quality(
    reference: CategoricalSummary, current: CategoricalSummary, spec: ColumnSpec | None
) -> dict[str, Any]:
    known = set(reference.categories)
    unseen = [(c, int(n)) for c, n in zip(current.categories, current.counts, strict=True)]
    unseen = [(c, n) for c, n in unseen if c not in known]
    quality: dict[str, Any] = {
        "unseen_categories": [c for c, _ in unseen[:MAX_LISTED_UNSEEN]],
        "unseen_share": _share(sum(n for _, n in unseen), current.n),
    }
    if spec is not None and spec.categories is not None:
        allowed = set(spec.categories)
        pairs = zip(current.categories, current.counts, strict=True)
        outside = sum(int(n) for c, n in pairs if c not in allowed)
        quality["out_of_range_share"] = _share(outside, current.n)
    return quality


def _distribution(
    reference: ColumnSummary, current: np.ndarray | CategoricalSummary
) -> dict[str, Any]:
    """Binned counts of both sides for the report's plots (never raw rows)."""
    if isinstance(reference, NumericSummary) and isinstance(current, np.ndarray):
        return {
            "kind": "histogram",
            "edges": reference.plot_edges.tolist(),
            "reference": reference.plot_counts.tolist(),
            "current": plot_counts(current, reference.plot_edges).tolist(),
        }
    if not (isinstance(reference, CategoricalSummary) and isinstance(current, CategoricalSummary)):
        raise TypeError("a numeric reference needs a numeric current window")
    labels, ref_counts, cur_counts = align_categories(reference, current)
    if len(labels) > MAX_PLOT_CATEGORIES:
        weight = np.maximum(ref_counts / max(reference.n, 1), cur_counts / max(current.n, 1))
        keep = np.sort(np.argsort(-weight, kind="stable")[: MAX_PLOT_CATEGORIES - 1])
        rest = np.setdiff1d(np.arange(len(labels)), keep)
        labels = [labels[i] for i in keep] + [OTHER]
        ref_counts = np.append(ref_counts[keep], ref_counts[rest].sum())
        cur_counts = np.append(cur_counts[keep], cur_counts[rest].sum())
    return {
        "kind": "bars",
        "categories": labels,
        "reference": ref_counts.tolist(),
        "current": cur_counts.tolist(),
    }
