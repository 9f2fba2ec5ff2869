"""``compute_drift``: compare a new window of data with the reference, column by column."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from loopml.data._contract import ColumnSpec, DataContract
from loopml.errors import InvalidInputError
from loopml.monitor._checks import AUTO, ColumnCheck, TestChoice, check_column
from loopml.monitor._columns import check_frame, in_parallel, is_prediction_column
from loopml.monitor._reference import ReferenceProfile
from loopml.monitor._report import DriftReport
from loopml.monitor.drift import ColumnSummary


def compute_drift(
    reference: pd.DataFrame | ReferenceProfile,
    current: pd.DataFrame,
    *,
    contract: DataContract | None = None,
    columns: Sequence[str] | None = None,
    tests: Mapping[str, str] | None = None,
    numeric_test: str = AUTO,
    categorical_test: str = AUTO,
    drift_share: float = 0.5,
    model: str | None = None,
    window: Mapping[str, Any] | None = None,
) -> DriftReport:
    """Drift of each feature, of the model's outputs, and data quality, for one window.

    ``reference`` is the reference data itself (exact-data mode: KS and Wasserstein read all
    of it) or its stored :class:`ReferenceProfile`. With a ``contract`` (or one stored in the
    profile) its feature columns are checked with its types and constraints; without one,
    every common column is, with types inferred from dtypes, and columns present on one side
    only are listed in the report. ``prediction`` and ``probability_*`` columns present on
    both sides are checked as prediction drift.

    Tests: ``numeric_test``/``categorical_test`` name a registered test or ``auto``
    (Evidently's defaults: ks / chi2 up to 1,000 reference values, wasserstein /
    jensenshannon above); ``tests`` overrides them per column. The dataset drifts when the
    share of drifted features is at least ``drift_share``.

    Raises:
        DataError: a frame is empty or has duplicated column names; the reference lacks a
            contract column.
        InvalidInputError: an unknown test or column name, a test that does not fit a column's
            type, or ``drift_share`` outside (0, 1].
    """
    check_frame(current, "current")
    if not 0 < drift_share <= 1:
        raise InvalidInputError(
            f"drift_share must be in (0, 1]; got {drift_share!r}.",
            hint="0.5 flags the dataset when half of the features drift.",
        )
    choice = TestChoice(numeric_test, categorical_test, dict(tests or {}))
    choice.validate()
    if isinstance(reference, ReferenceProfile):
        profile = reference
    else:
        profile = ReferenceProfile.from_frame(reference, contract, keep_data=True)
    contract = contract if contract is not None else profile.contract
    selected = _select(profile, columns, choice.overrides)
    report = DriftReport(
        model=model,
        window=dict(window or {}),
        n_reference=profile.n_rows,
        n_current=len(current),
        drift_share=drift_share,
        skipped={n: r for n, r in profile.skipped.items() if columns is None or n in columns},
    )
    report.columns_only_in_reference = [n for n in selected if n not in current.columns]
    features = [n for n in selected if n in current.columns]
    outputs = [n for n in profile.predictions if n in current.columns]
    jobs = [(n, profile.columns[n], contract) for n in features]
    jobs += [(n, profile.predictions[n], None) for n in outputs]
    # Columns are independent and numpy/pyarrow release the GIL: check them side by side.
    checks = in_parallel(lambda job: _check(job[0], job[1], current, choice, job[2]), jobs)
    for (name, _summary, _spec), check in zip(jobs, checks, strict=True):
        into = report.features if name in features else report.prediction_drift
        _record(report, name, check, into)
    report.columns_only_in_current = _new_columns(profile, current, contract)
    report.summarise()
    return report


def _select(
    profile: ReferenceProfile, columns: Sequence[str] | None, overrides: Mapping[str, str]
) -> list[str]:
    known = list(profile.columns)
    asked = list(known if columns is None else columns)
    unknown = [c for c in asked if c not in profile.columns and c not in profile.skipped]
    unknown += [c for c in overrides if c not in profile.columns and c not in profile.predictions]
    if unknown:
        raise InvalidInputError(
            f"The reference has no drift-tested column named {', '.join(map(repr, unknown))}.",
            hint=f"Known columns: {', '.join([*known, *profile.predictions])}.",
        )
    return [c for c in asked if c in profile.columns]


def _check(
    name: str,
    summary: ColumnSummary,
    current: pd.DataFrame,
    choice: TestChoice,
    contract: DataContract | None,
) -> ColumnCheck:
    test, kind = choice.pick(name, summary)
    return check_column(summary, current[name], test, kind, _spec(contract, name))


def _spec(contract: DataContract | None, name: str) -> ColumnSpec | None:
    if contract is None or name not in contract.names:
        return None
    return contract.column(name)


def _record(
    report: DriftReport, name: str, check: ColumnCheck, into: dict[str, dict[str, Any]]
) -> None:
    report.quality[name] = check.quality
    if check.result is None:
        report.skipped[name] = check.skipped or "not tested"
        return
    into[name] = check.result
    if check.distribution is not None:
        report.distributions[name] = check.distribution


def _new_columns(
    profile: ReferenceProfile, current: pd.DataFrame, contract: DataContract | None
) -> list[str]:
    known = set(contract.names) if contract is not None else set(profile.source_columns)
    known |= set(profile.columns) | set(profile.skipped)
    return [
        str(c) for c in current.columns if str(c) not in known and not is_prediction_column(str(c))
    ]
