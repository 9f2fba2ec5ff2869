"""Cleaning steps: each reports what it changed, and the learned parts replay on new rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from loopml.charter import CleaningSpec
from loopml.data import ColumnSpec, DataContract
from loopml.data._clean import (
    CleaningTransformer,
    clean_frame,
    coerce_columns,
    plan_cleaning,
)
from loopml.errors import DataError


def _contract() -> DataContract:
    return DataContract(
        columns=[
            ColumnSpec(name="income", dtype="float", role="feature"),
            ColumnSpec(name="age", dtype="string", role="feature"),
            ColumnSpec(name="city", dtype="category", role="feature"),
            ColumnSpec(name="id", dtype="integer", role="id"),
            ColumnSpec(name="y", dtype="integer", role="target"),
        ],
        target="y",
    )


def _frame() -> pd.DataFrame:
    income = [float(v) for v in range(10, 30)] + [1000.0, np.nan]
    return pd.DataFrame(
        {
            "income": income,
            "age": ["30", "41", "n/a", "29", "52", "33"] * 3 + ["40", "41", "44", "40"],
            "city": ["Oslo", "Lima", None, "Oslo"] * 5 + ["Pune", "Oslo"],
            "id": list(range(22)),
            "y": [0, 1] * 11,
        }
    )


def _spec(**values: object) -> CleaningSpec:
    return CleaningSpec.model_validate(values)


def test_coercion_counts_failed_values_or_names_them() -> None:
    frame = pd.DataFrame({"age": ["30", "4.5", "n/a", None], "ok": ["yes", "no", "Y", "maybe"]})
    out, step = coerce_columns(frame, {"age": "int", "ok": "bool"})
    assert out["age"].tolist()[:1] == [30] and out["age"].isna().sum() == 3
    assert step.columns == {"age": {"to": "int", "failed": 2}, "ok": {"to": "bool", "failed": 1}}
    assert out["ok"].tolist()[:3] == [True, False, True]
    with pytest.raises(
        DataError, match=r"'age' has 2 value\(s\) that are not int \(e.g. '4.5', 'n/a'\)"
    ):
        coerce_columns(frame, {"age": "int"}, errors="raise")


def test_each_step_reports_what_it_changed() -> None:
    frame = pd.concat([_frame(), _frame().iloc[[0, 1]]], ignore_index=True)  # 2 duplicates
    spec = _spec(
        drop_duplicates=True,
        coerce={"age": "float"},
        outliers={"method": "iqr", "factor": 1.5},
        missing={"default": "median", "columns": {"city": "most_frequent"}},
    )
    plan = plan_cleaning(spec, _contract(), frame)
    assert plan.outlier_columns == ["income", "age"] and plan.fill == {
        "income": "median",
        "age": "median",
        "city": "most_frequent",
    }
    cleaned, report, transformer = clean_frame(frame, plan)
    steps = {s.step: s for s in report.steps}
    assert steps["drop_duplicates"].rows_dropped == 2 and report.rows_after == 22
    assert steps["coerce"].columns["age"] == {"to": "float", "failed": 3}  # the "n/a"s
    q1, q3 = pd.Series(_frame()["income"]).quantile([0.25, 0.75])
    high = q3 + 1.5 * (q3 - q1)
    assert steps["outliers"].columns["income"] == {
        "bounds": [q1 - 1.5 * (q3 - q1), high],
        "capped_low": 0,
        "capped_high": 1,
    }
    assert cleaned["income"].max() == pytest.approx(high)
    assert steps["missing"].columns["city"] == {"filled": 5, "value": "Oslo"}
    assert steps["missing"].columns["income"]["filled"] == 1
    assert cleaned[["income", "age", "city"]].notna().all().all()
    assert report.totals() == {
        "rows_dropped": 2,
        "cells_filled": 1 + 3 + 5,
        "values_capped": 1,
        "coercion_failures": 3,
    }
    assert transformer is not None
    assert any("capped 0 low and 1 high" in line for line in steps["outliers"].lines())


def test_the_transformer_replays_training_bounds_and_fill_values_on_new_rows() -> None:
    spec = _spec(
        coerce={"age": "float"},
        outliers={"method": "quantile", "lower": 0.05, "upper": 0.95},
        missing={"columns": {"income": "mean", "city": "constant"}, "fill_values": {"city": "?"}},
    )
    _, _, transformer = clean_frame(_frame(), plan_cleaning(spec, _contract(), _frame()))
    assert transformer is not None
    new = pd.DataFrame(
        {"income": [1e6, np.nan, -5.0], "age": ["x", "200", "1"], "city": [None, "Oslo", None]}
    )
    out = transformer.transform(new)
    low, high = transformer.bounds_["income"]
    assert out["income"].tolist() == [high, transformer.fill_values_["income"], low]
    assert out["age"].iloc[1] == transformer.bounds_["age"][1] and np.isnan(out["age"].iloc[0])
    assert out["city"].tolist() == ["?", "Oslo", "?"]
    refit = clone(transformer).fit(_frame())
    assert refit.bounds_ == transformer.bounds_  # a clean scikit-learn estimator


def test_bad_cleaning_sections_are_one_sentence() -> None:
    with pytest.raises(DataError, match="names column\\(s\\) not in the data: nope"):
        plan_cleaning(_spec(coerce={"nope": "int"}), _contract(), _frame())
    plan = plan_cleaning(_spec(missing={"columns": {"city": "median"}}), _contract(), _frame())
    with pytest.raises(DataError, match="'city' is not numeric"):
        clean_frame(_frame(), plan)
    plan = plan_cleaning(_spec(missing={"default": "drop_rows"}), _contract(), _frame())
    frame = _frame().assign(city=None)
    with pytest.raises(DataError, match="dropped every row"):
        clean_frame(frame, plan)


def test_no_cleaning_declared_means_an_empty_plan() -> None:
    assert plan_cleaning(CleaningSpec(), _contract(), _frame()).empty
    assert isinstance(CleaningTransformer().fit(_frame()).transform(_frame()), pd.DataFrame)
