"""Cleaning steps declared in the charter (``cleaning:``), each reporting what it changed.

The steps run in this order on the training rows:

1. ``coerce``: columns converted to int, float, string, bool, datetime or category; values that
   cannot be converted become missing (counted), or raise under ``errors="raise"``.
2. ``drop_duplicates``: exact duplicate rows are dropped (the first is kept).
3. ``drop_rows``: rows missing a column whose missing-value policy is ``drop_rows``.
4. ``outliers``: values beyond bounds learned on the training rows (IQR fences or quantiles) are
   clipped to them.
5. ``missing``: missing values filled with a value learned on the training rows (median, mean,
   most frequent) or a given constant.

Steps 1, 4 and 5 change feature values, so the model must see the same changes at prediction
time: :class:`CleaningTransformer` learns the bounds and fill values (``fit``) and replays them
(``transform``); it is prepended to the fitted model pipeline. Steps 2 and 3 drop rows and
only ever apply to training data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from loopml.data._contract import DataContract
from loopml.data._infer import parse_datetimes
from loopml.errors import DataError

CoerceErrors = Literal["raise", "null"]
_N_EXAMPLES = 3
_TRUE = frozenset({"true", "1", "1.0", "yes", "y", "t"})
_FALSE = frozenset({"false", "0", "0.0", "no", "n", "f"})
_LEARNED = frozenset({"median", "mean", "most_frequent", "constant"})


@dataclass
class CleaningStep:
    """What one step changed: ``rows_dropped``, and per column the details (``failed`` values for
    coercion, ``filled`` cells and the ``value`` used, ``capped_low``/``capped_high`` counts
    and the ``bounds``)."""

    step: str
    rows_dropped: int = 0
    columns: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "rows_dropped": self.rows_dropped, "columns": self.columns}

    def lines(self) -> list[str]:
        """One human-readable line per change."""
        if self.step in ("drop_duplicates", "drop_rows"):
            what = "exact duplicate rows" if self.step == "drop_duplicates" else "rows"
            where = f" missing {', '.join(self.columns)}" if self.columns else ""
            return [f"dropped {self.rows_dropped} {what}{where}"]
        out = []
        for name, info in self.columns.items():
            if self.step == "coerce":
                out.append(f"{name}: to {info['to']}, {info['failed']} value(s) failed")
            elif self.step == "outliers":
                low, high = info["bounds"]
                out.append(
                    f"{name}: capped {info['capped_low']} low and {info['capped_high']} high "
                    f"value(s) to [{low:.6g}, {high:.6g}]"
                )
            else:
                out.append(f"{name}: filled {info['filled']} cell(s) with {info['value']!r}")
        return out


@dataclass
class CleaningReport:
    """The steps run on ``rows_before`` rows, leaving ``rows_after``."""

    rows_before: int
    rows_after: int
    steps: list[CleaningStep] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        """Rows dropped, cells filled, values capped and coercion failures, in all."""

        def total(step: str, key: str) -> int:
            return sum(
                int(info.get(key, 0))
                for s in self.steps
                if s.step == step
                for info in s.columns.values()
            )

        return {
            "rows_dropped": self.rows_before - self.rows_after,
            "cells_filled": total("missing", "filled"),
            "values_capped": total("outliers", "capped_low") + total("outliers", "capped_high"),
            "coercion_failures": total("coerce", "failed"),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows_before": self.rows_before,
            "rows_after": self.rows_after,
            **self.totals(),
            "steps": [s.to_dict() for s in self.steps],
        }


# -- pure steps ------------------------------------------------------------------------------
def _examples(values: pd.Series) -> list[Any]:
    return [v.item() if isinstance(v, np.generic) else v for v in values.unique()[:_N_EXAMPLES]]


def _to_bool(series: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.astype("boolean")
    text = series.astype(str).str.strip().str.lower()
    out = pd.Series(pd.NA, index=series.index, dtype="boolean")
    out[text.isin(_TRUE)] = True
    out[text.isin(_FALSE)] = False
    return out.where(series.notna(), pd.NA)


def coerce_series(series: pd.Series, to: str) -> pd.Series:
    """``series`` converted to ``to`` (int, float, string, bool, datetime, category); values
    that cannot be converted become missing. Ints are pandas' nullable ``Int64``; a number with
    a fraction is not an int."""
    if to in ("int", "float"):
        numbers = pd.to_numeric(series, errors="coerce")
        if to == "float":
            return numbers.astype("float64")
        numbers = numbers.astype("float64")
        whole = numbers.where(np.isfinite(numbers) & (np.mod(numbers, 1) == 0))
        return whole.astype("Int64")
    if to == "string":
        return series.astype(object).where(series.isna(), series.astype(str))
    if to == "bool":
        return _to_bool(series)
    if to == "datetime":
        return parse_datetimes(series)
    if to == "category":
        return series.astype("category")
    raise DataError(
        f"Cannot coerce to {to!r}.", hint="Use int, float, string, bool, datetime or category."
    )


def coerce_columns(
    frame: pd.DataFrame, types: Mapping[str, str], *, errors: CoerceErrors = "null"
) -> tuple[pd.DataFrame, CleaningStep]:
    """``frame`` with each column of ``types`` converted; the step counts failed values.

    Raises:
        DataError: ``errors="raise"`` and some value of a column cannot be converted (the
            message names the column, the count and examples).
    """
    out = frame.copy()
    step = CleaningStep("coerce")
    for name, to in types.items():
        converted = coerce_series(frame[name], to)
        failed = frame[name].notna() & converted.isna()
        count = int(failed.sum())
        if count and errors == "raise":
            shown = ", ".join(repr(v) for v in _examples(frame[name][failed]))
            raise DataError(
                f"Column {name!r} has {count} value(s) that are not {to} (e.g. {shown}).",
                hint="Fix the data, or use the warn/quarantine validation policy to make them "
                "missing values.",
            )
        out[name] = converted
        step.columns[name] = {"to": to, "failed": count}
    return out, step


def drop_duplicate_rows(frame: pd.DataFrame) -> tuple[pd.DataFrame, CleaningStep]:
    """``frame`` without rows that repeat an earlier row exactly."""
    kept = frame[~frame.duplicated(keep="first")]
    return kept, CleaningStep("drop_duplicates", rows_dropped=len(frame) - len(kept))


def drop_missing_rows(frame: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, CleaningStep]:
    """``frame`` without the rows missing any of ``columns``."""
    kept = frame.dropna(subset=columns) if columns else frame
    step = CleaningStep("drop_rows", rows_dropped=len(frame) - len(kept))
    step.columns = {name: {"missing": int(frame[name].isna().sum())} for name in columns}
    return kept, step


def learn_bounds(
    frame: pd.DataFrame,
    columns: list[str],
    *,
    method: str = "iqr",
    factor: float = 1.5,
    lower: float = 0.01,
    upper: float = 0.99,
) -> dict[str, tuple[float, float]]:
    """Capping bounds per column from its present values: the IQR fences
    ``q1 - factor * iqr, q3 + factor * iqr`` or the ``lower``/``upper`` quantiles."""
    bounds: dict[str, tuple[float, float]] = {}
    for name in columns:
        values = pd.to_numeric(frame[name], errors="coerce").astype("float64").dropna()
        if values.empty:
            continue
        if method == "iqr":
            q1, q3 = values.quantile([0.25, 0.75]).tolist()
            bounds[name] = (q1 - factor * (q3 - q1), q3 + factor * (q3 - q1))
        else:
            low, high = values.quantile([lower, upper]).tolist()
            bounds[name] = (float(low), float(high))
    return bounds


def cap_outliers(
    frame: pd.DataFrame, bounds: Mapping[str, tuple[float, float]]
) -> tuple[pd.DataFrame, CleaningStep]:
    """``frame`` with values outside each column's bounds clipped to them (missing values kept;
    columns of ``bounds`` absent from ``frame`` skipped)."""
    out = frame.copy()
    step = CleaningStep("outliers")
    for name, (low, high) in bounds.items():
        if name not in frame.columns:
            continue
        values = pd.to_numeric(frame[name], errors="coerce").astype("float64")
        n_low, n_high = int((values < low).sum()), int((values > high).sum())
        if n_low or n_high:
            out[name] = values.clip(low, high)
        step.columns[name] = {
            "bounds": [low, high],
            "capped_low": n_low,
            "capped_high": n_high,
        }
    return out, step


def learn_fill_values(
    frame: pd.DataFrame, policies: Mapping[str, str], constants: Mapping[str, Any]
) -> dict[str, Any]:
    """The value each column's missing cells are filled with: its ``median``, ``mean`` or
    ``most_frequent`` value in ``frame``, or its ``constant``.

    Raises:
        DataError: a median/mean of a column that is not numeric, a constant policy without a
            value, or a column with no values to learn from.
    """
    values: dict[str, Any] = {}
    for name, policy in policies.items():
        series = frame[name]
        if policy == "constant":
            if name not in constants:
                raise DataError(
                    f"Column {name!r} is filled with a constant but cleaning.missing.fill_values "
                    "has no value for it.",
                    hint=f"Add fill_values: {{{name}: VALUE}} to the charter.",
                )
            values[name] = constants[name]
            continue
        present = series.dropna()
        if present.empty:
            raise DataError(
                f"Column {name!r} has no values in the training rows, so its {policy} cannot "
                "be learned.",
                hint="Drop the column, or fill it with a constant.",
            )
        if policy in ("median", "mean"):
            if not pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(
                series.dtype
            ):
                raise DataError(
                    f"Column {name!r} is not numeric, so its {policy} cannot fill it.",
                    hint="Use most_frequent or constant, or coerce it to a number first.",
                )
            value: Any = present.median() if policy == "median" else present.mean()
        else:
            value = present.mode().iloc[0]
        values[name] = value.item() if isinstance(value, np.generic) else value
    return values


def fill_missing(
    frame: pd.DataFrame, values: Mapping[str, Any]
) -> tuple[pd.DataFrame, CleaningStep]:
    """``frame`` with each column's missing cells set to its value (columns of ``values``
    absent from ``frame`` skipped)."""
    out = frame.copy()
    step = CleaningStep("missing")
    for name, value in values.items():
        if name not in frame.columns:
            continue
        missing = frame[name].isna()
        count = int(missing.sum())
        if count:
            column = frame[name]
            if isinstance(column.dtype, pd.CategoricalDtype) and value not in column.cat.categories:
                column = column.cat.add_categories([value])
            out[name] = column.where(~missing, value)
        step.columns[name] = {"filled": count, "value": value}
    return out, step


# -- the transformer replayed at prediction time ----------------------------------------------
class CleaningTransformer(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Coercion, outlier capping and missing-value filling as a scikit-learn transformer.

    ``fit`` learns ``bounds_`` (on the coerced values) and ``fill_values_`` (on the coerced,
    capped values); ``transform`` replays coercion (failures become missing), capping and
    filling on a DataFrame and returns a DataFrame with the same columns. Columns it knows that
    are absent from the input are skipped, so it fits on whole training rows and transforms
    the model's feature columns.

    Args:
        coerce: column -> type (int, float, string, bool, datetime, category).
        outlier_columns: the columns to cap; ``outliers`` holds ``method``, ``factor``,
            ``lower`` and ``upper`` (see :func:`learn_bounds`).
        fill: column -> median, mean, most_frequent or constant; ``constants`` the values.
    """

    def __init__(
        self,
        coerce: Mapping[str, str] | None = None,
        outlier_columns: list[str] | None = None,
        outliers: Mapping[str, Any] | None = None,
        fill: Mapping[str, str] | None = None,
        constants: Mapping[str, Any] | None = None,
    ) -> None:
        self.coerce = coerce
        self.outlier_columns = outlier_columns
        self.outliers = outliers
        self.fill = fill
        self.constants = constants

    def _coerced(self, X: pd.DataFrame) -> pd.DataFrame:
        types = {k: v for k, v in (self.coerce or {}).items() if k in X.columns}
        return coerce_columns(X, types)[0] if types else X

    def fit(self, X: pd.DataFrame, y: Any = None) -> CleaningTransformer:
        """Learn the capping bounds and the fill values on ``X`` (training rows)."""
        frame = self._coerced(X)
        self.bounds_ = learn_bounds(
            frame, list(self.outlier_columns or []), **(self.outliers or {})
        )
        frame = cap_outliers(frame, self.bounds_)[0]
        self.fill_values_ = learn_fill_values(
            frame, dict(self.fill or {}), dict(self.constants or {})
        )
        self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """``X`` coerced, capped and filled as learned."""
        frame = self._coerced(X)
        frame = cap_outliers(frame, self.bounds_)[0]
        return fill_missing(frame, self.fill_values_)[0]

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        names = input_features if input_features is not None else self.feature_names_in_
        return np.asarray(names, dtype=object)


# -- the charter's cleaning, on training rows ---------------------------------------------------
@dataclass
class CleaningPlan:
    """The charter's cleaning resolved against a contract: which columns each step touches."""

    coerce: dict[str, str]
    drop_duplicates: bool
    drop_rows: list[str]
    outlier_columns: list[str]
    outliers: dict[str, Any]
    fill: dict[str, str]
    constants: dict[str, Any]

    @property
    def empty(self) -> bool:
        return not (
            self.coerce
            or self.drop_duplicates
            or self.drop_rows
            or self.outlier_columns
            or self.fill
        )


def plan_cleaning(spec: Any, contract: DataContract, frame: pd.DataFrame) -> CleaningPlan:
    """Resolve the charter's ``cleaning`` section (a :class:`~loopml.charter.CleaningSpec`) on
    ``frame``: a missing-value ``default`` applies to every feature (``median``/``mean`` to the
    numeric ones), outlier capping with no ``columns`` to every numeric feature.

    Raises:
        DataError: the section names a column that is not in the data.
    """
    named = [
        *spec.coerce,
        *spec.missing.columns,
        *(spec.outliers.columns or [] if spec.outliers else []),
    ]
    unknown = sorted({c for c in named if c not in frame.columns})
    if unknown:
        raise DataError(
            "The charter's cleaning section names column(s) not in the data: "
            f"{', '.join(unknown)}.",
            hint="Fix the names under cleaning: in loopml.yaml.",
        )
    features = [c for c in contract.feature_names if c in frame.columns]

    def numeric(name: str) -> bool:
        to = spec.coerce.get(name)
        if to is not None:
            return to in ("int", "float")
        dtype = frame[name].dtype
        return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)

    policies: dict[str, str] = {}
    if spec.missing.default != "keep":
        for name in features:
            if spec.missing.default in ("median", "mean") and not numeric(name):
                continue
            policies[name] = spec.missing.default
    policies.update(spec.missing.columns)
    outlier_columns: list[str] = []
    outliers: dict[str, Any] = {}
    if spec.outliers is not None:
        chosen = spec.outliers.columns
        outlier_columns = (
            list(chosen) if chosen is not None else [c for c in features if numeric(c)]
        )
        outliers = spec.outliers.model_dump(include={"method", "factor", "lower", "upper"})
    return CleaningPlan(
        coerce=dict(spec.coerce),
        drop_duplicates=spec.drop_duplicates,
        drop_rows=[c for c, p in policies.items() if p == "drop_rows"],
        outlier_columns=outlier_columns,
        outliers=outliers,
        fill={c: p for c, p in policies.items() if p in _LEARNED},
        constants=dict(spec.missing.fill_values),
    )


def clean_frame(
    frame: pd.DataFrame, plan: CleaningPlan, *, errors: CoerceErrors = "null"
) -> tuple[pd.DataFrame, CleaningReport, CleaningTransformer | None]:
    """Run ``plan`` on training rows: the cleaned frame, what each step changed, and the fitted
    transformer replaying coercion, capping and filling at prediction time (None when the plan
    changes no values).

    Raises:
        DataError: a value cannot be coerced under ``errors="raise"``, every row is dropped, or
            a fill value cannot be learned (see :func:`learn_fill_values`).
    """
    report = CleaningReport(rows_before=len(frame), rows_after=len(frame))
    out = frame
    if plan.coerce:
        out, step = coerce_columns(out, plan.coerce, errors=errors)
        report.steps.append(step)
    if plan.drop_duplicates:
        out, step = drop_duplicate_rows(out)
        report.steps.append(step)
    if plan.drop_rows:
        out, step = drop_missing_rows(out, plan.drop_rows)
        report.steps.append(step)
    if len(out) == 0:
        raise DataError(
            "Cleaning dropped every row.",
            hint="Relax the drop_rows missing-value policy in the charter's cleaning section.",
        )
    transformer = None
    if plan.outlier_columns or plan.fill or plan.coerce:
        transformer = CleaningTransformer(
            coerce=plan.coerce,
            outlier_columns=plan.outlier_columns,
            outliers=plan.outliers,
            fill=plan.fill,
            constants=plan.constants,
        )
        transformer.fit(out)
        if plan.outlier_columns:
            out, step = cap_outliers(out, transformer.bounds_)
            report.steps.append(step)
        if plan.fill:
            out, step = fill_missing(out, transformer.fill_values_)
            report.steps.append(step)
    report.rows_after = len(out)
    return out.reset_index(drop=True), report, transformer
