"""Preprocessors from the contract: every column kind and style, never raising on new data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from loopml.data import ColumnSpec, DataContract
from loopml.errors import DataError, InvalidInputError
from loopml.features import (
    DatetimeParts,
    as_labels,
    build_preprocessor,
    dropped_columns,
    original_column_map,
)

STYLED_FAMILIES = ["linear", "random_forest", "lightgbm"]


def mixed_frame(n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    amount = rng.normal(100, 10, n)
    amount[::7] = np.nan
    return pd.DataFrame(
        {
            "amount": amount,
            "plan": pd.Series(rng.choice(["basic", "pro", None], n), dtype=object),
            "active": pd.Series(rng.choice([True, False], n), dtype=object),
            "signup": pd.date_range("2024-01-01", periods=n, freq="36h").astype(str),
            "comment": rng.choice(["great service", "slow support", "", None], n),
        }
    )


def mixed_contract() -> DataContract:
    return DataContract(
        columns=[
            ColumnSpec(name="amount", dtype="float", max_null_share=0.2),
            ColumnSpec(name="plan", dtype="category"),
            ColumnSpec(name="active", dtype="boolean"),
            ColumnSpec(name="signup", dtype="datetime"),
            ColumnSpec(name="comment", dtype="string", role="text"),
        ]
    )


def unseen_rows() -> pd.DataFrame:
    """Values training never saw: a new category, missing everything, text where numbers go."""
    return pd.DataFrame(
        {
            "amount": [np.nan, "not a number"],
            "plan": ["enterprise", None],
            "active": [None, "maybe"],
            "signup": ["not a date", None],
            "comment": [None, "never seen words"],
        }
    )


@pytest.mark.parametrize("family", STYLED_FAMILIES)
def test_unseen_values_at_predict_time_never_raise(family: str) -> None:
    preprocessor = build_preprocessor(mixed_contract(), family).fit(mixed_frame())
    out = preprocessor.transform(unseen_rows())
    assert out.shape[0] == 2
    assert out.shape[1] == len(preprocessor.get_feature_names_out())


@pytest.mark.parametrize("family", ["linear", "random_forest"])
def test_imputing_styles_leave_no_missing_values(family: str) -> None:
    preprocessor = build_preprocessor(mixed_contract(), family).fit(mixed_frame())
    out = np.asarray(preprocessor.transform(unseen_rows()), dtype=float)
    assert not np.isnan(out).any()


def test_linear_one_hot_encodes_scales_and_vectorises_text() -> None:
    preprocessor = build_preprocessor(mixed_contract(), "linear").fit(mixed_frame())
    names = list(preprocessor.get_feature_names_out())
    assert "numeric__amount" in names and "numeric__missingindicator_amount" in names
    assert {"categorical__plan_basic", "categorical__plan_pro"} <= set(names)
    assert {"text_0__great", "text_0__support"} <= set(names)
    scaled = np.asarray(preprocessor.transform(mixed_frame()), dtype=float)
    assert scaled[:, names.index("numeric__amount")].mean() == pytest.approx(0.0, abs=1e-9)
    assert dropped_columns(preprocessor) == []


def test_unknown_category_one_hot_row_is_all_zero() -> None:
    frame = pd.DataFrame({"plan": ["basic"] * 10 + ["pro"] * 10})
    contract = DataContract(columns=[ColumnSpec(name="plan", dtype="category")])
    preprocessor = build_preprocessor(contract, "linear").fit(frame)
    out = preprocessor.transform(pd.DataFrame({"plan": ["enterprise", "pro"]}))
    assert out.to_numpy().tolist() == [[0.0, 0.0], [0.0, 1.0]]


def test_rare_categories_are_grouped_and_take_unknown_values() -> None:
    frame = pd.DataFrame({"city": ["a"] * 20 + ["b"] * 20 + ["rare1", "rare2"]})
    contract = DataContract(columns=[ColumnSpec(name="city", dtype="category")])
    preprocessor = build_preprocessor(contract, "linear").fit(frame)
    names = list(preprocessor.get_feature_names_out())
    assert names == [
        "categorical__city_a",
        "categorical__city_b",
        "categorical__city_infrequent_sklearn",
    ]
    out = preprocessor.transform(pd.DataFrame({"city": ["never seen"]}))
    assert out.to_numpy().tolist() == [[0.0, 0.0, 1.0]]


def test_tree_styles_drop_text_and_record_it() -> None:
    for family in ("random_forest", "lightgbm"):
        preprocessor = build_preprocessor(mixed_contract(), family)
        assert dropped_columns(preprocessor) == ["comment"]
        preprocessor.fit(mixed_frame())
        assert "comment" not in set(original_column_map(preprocessor).values())


def test_lightgbm_style_keeps_missing_numbers_and_makes_native_categories() -> None:
    preprocessor = build_preprocessor(mixed_contract(), "lightgbm").fit(mixed_frame())
    out = preprocessor.transform(unseen_rows())
    assert isinstance(out["categorical__plan"].dtype, pd.CategoricalDtype)
    assert out["categorical__plan"].isna().all()  # unknown and missing -> missing
    assert out["numeric__amount"].isna().all()


def test_random_forest_style_encodes_unknown_categories_as_minus_one() -> None:
    preprocessor = build_preprocessor(mixed_contract(), "random_forest").fit(mixed_frame())
    out = preprocessor.transform(unseen_rows())
    assert out["categorical__plan"].iloc[0] == -1


def test_datetime_column_becomes_parts() -> None:
    preprocessor = build_preprocessor(mixed_contract(), "random_forest").fit(mixed_frame())
    row = mixed_frame().iloc[:1].assign(signup="2023-07-15 18:30:00")
    out = preprocessor.transform(row)
    parts = {
        p: out[f"datetime__signup_{p}"].iloc[0] for p in ("year", "month", "day_of_week", "hour")
    }
    assert parts == {"year": 2023, "month": 7, "day_of_week": 5, "hour": 18}
    assert out["datetime__signup_day_of_year"].iloc[0] == 196


def test_original_column_map_covers_every_output_feature() -> None:
    for family in STYLED_FAMILIES:
        preprocessor = build_preprocessor(mixed_contract(), family).fit(mixed_frame())
        mapping = original_column_map(preprocessor)
        assert list(mapping) == list(preprocessor.get_feature_names_out())
        expected = {"amount", "plan", "active", "signup"} | (
            {"comment"} if family == "linear" else set()
        )
        assert set(mapping.values()) == expected


def test_original_column_map_prefers_the_longest_matching_column() -> None:
    frame = pd.DataFrame({"age": ["x", "y"] * 10, "age_group": ["x", "y"] * 10})
    contract = DataContract(
        columns=[
            ColumnSpec(name="age", dtype="category"),
            ColumnSpec(name="age_group", dtype="category"),
        ]
    )
    preprocessor = build_preprocessor(contract, "linear").fit(frame)
    mapping = original_column_map(preprocessor)
    assert mapping["categorical__age_group_x"] == "age_group"
    assert mapping["categorical__age_x"] == "age"


def test_original_column_map_needs_a_fitted_preprocessor() -> None:
    with pytest.raises(InvalidInputError, match="not fitted"):
        original_column_map(build_preprocessor(mixed_contract(), "linear"))


def test_object_and_string_dtypes_encode_identically() -> None:
    frame = mixed_frame()
    as_string = frame.assign(
        plan=frame["plan"].astype("str"), signup=frame["signup"].astype("string")
    )
    as_string.loc[frame["plan"].isna(), "plan"] = np.nan
    preprocessor = build_preprocessor(mixed_contract(), "linear").fit(frame)
    np.testing.assert_allclose(preprocessor.transform(frame), preprocessor.transform(as_string))


def test_numbers_and_their_text_are_the_same_category() -> None:
    labels = as_labels(pd.DataFrame({"code": [1.0, "1", 2, np.nan, None]}))
    assert labels["code"].tolist()[:3] == ["1", "1", "2"]
    assert labels["code"].isna().tolist() == [False, False, False, True, True]


def test_json_special_characters_in_names_are_replaced() -> None:
    frame = pd.DataFrame({"price [usd]": [1.0, 2.0, 3.0], "a:b": ["x", "y", "x"]})
    contract = DataContract(
        columns=[
            ColumnSpec(name="price [usd]", dtype="float"),
            ColumnSpec(name="a:b", dtype="category"),
        ]
    )
    preprocessor = build_preprocessor(contract, "lightgbm").fit(frame)
    assert list(preprocessor.get_feature_names_out()) == [
        "numeric__price _usd_",
        "categorical__a_b",
    ]
    assert set(original_column_map(preprocessor).values()) == {"price [usd]", "a:b"}


def test_bad_inputs_are_refused_with_clear_errors() -> None:
    with pytest.raises(InvalidInputError, match="Unknown model family 'naive_bayes'"):
        build_preprocessor(mixed_contract(), "naive_bayes")
    only_target = DataContract(columns=[ColumnSpec(name="y", dtype="integer")], target="y")
    with pytest.raises(DataError, match="no feature columns"):
        build_preprocessor(only_target, "linear")
    only_text = DataContract(columns=[ColumnSpec(name="note", dtype="string", role="text")])
    with pytest.raises(InvalidInputError, match="none of the feature columns"):
        build_preprocessor(only_text, "lightgbm")


def test_dummy_style_reads_no_column() -> None:
    preprocessor = build_preprocessor(mixed_contract(), "dummy").fit(mixed_frame())
    assert preprocessor.transform(mixed_frame()).shape == (40, 0)
    assert dropped_columns(preprocessor) == ["amount", "plan", "active", "signup", "comment"]


def test_datetime_parts_follows_the_estimator_contract() -> None:
    parts = DatetimeParts(parts=("year", "hour"))
    assert clone(parts).get_params() == {"parts": ("year", "hour")}
    frame = pd.DataFrame(
        {"at": pd.to_datetime(["2024-03-01 23:00", None]).tz_localize("Europe/Paris")}
    )
    assert parts.fit(frame) is parts
    assert list(parts.get_feature_names_out()) == ["at_year", "at_hour"]
    out = parts.transform(frame)
    assert out.iloc[0].tolist() == [2024.0, 22.0]  # converted to UTC
    assert out.iloc[1].isna().all()
    with pytest.raises(ValueError, match="Unknown datetime parts"):
        DatetimeParts(parts=("century",)).fit(frame)
