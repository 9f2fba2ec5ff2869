"""Contract and task inference: dtypes, roles and constraints read from the data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loopml.data import infer_contract, infer_dtype, infer_task
from loopml.errors import DataError, InvalidInputError


def test_churn_contract(churn: pd.DataFrame) -> None:
    contract = infer_contract(churn, target="churn", sensitive=["female", "senior_citizen"])
    assert contract.target == "churn" and contract.names == list(churn.columns)
    target = contract.column("churn")
    assert (target.role, target.dtype, target.categories) == ("target", "category", ["No", "Yes"])
    assert contract.column("female").dtype == "integer"  # 0/1 integers stay integers
    assert contract.column("female").sensitive and contract.column("female").role == "feature"
    assert contract.column("contract").categories == ["Month-to-month", "One year", "Two year"]
    tenure = contract.column("tenure")
    assert (tenure.min, tenure.max) == (0.0, 72.0)
    # 11 of 7043 missing -> 0.16 %; the limit adds slack: max(x * 1.5, x + 0.01) rounded up.
    assert contract.column("total_charges").max_null_share == pytest.approx(0.0116)
    assert contract.column("tenure").max_null_share == 0.01
    assert len(contract.feature_names) == 19
    assert not any(c.unique for c in contract.columns)


def test_flights_contract(flights: pd.DataFrame) -> None:
    contract = infer_contract(flights, target="arr_delay")
    time_hour = contract.column("time_hour")
    assert (time_hour.dtype, time_hour.role) == ("datetime", "time")  # ISO strings with 'Z'
    assert contract.time_column is not None and contract.time_column.name == "time_hour"
    assert contract.column("year").role == "ignore"  # constant: 2013 everywhere
    assert contract.column("origin").categories == ["EWR", "JFK", "LGA"]
    assert contract.column("tailnum").dtype == "string"  # thousands of distinct values
    assert contract.column("arr_delay").dtype == "float"
    assert contract.column("dep_delay").max_null_share > 0.01
    assert infer_task(flights["arr_delay"]) == "regression"
    assert infer_task(flights["arr_delay"] > 15) == "binary"
    assert infer_task(flights["origin"]) == "multiclass"


def test_edge_columns_unicode_constant_all_null_mixed() -> None:
    n = 40
    frame = pd.DataFrame(
        {
            "numéro client": range(1000, 1000 + n),
            "名前": [f"user-{i:04d}" for i in range(n)],
            "constant": ["same"] * n,
            "empty": [None] * n,
            "mixed": [1, "a"] * (n // 2),
            "flag": [True, False] * (n // 2),
            "comment": [f"the customer said thing number {i} about us" for i in range(n)],
            "y": [0, 1] * (n // 2),
        }
    )
    contract = infer_contract(frame, target="y")
    roles = {c.name: c.role for c in contract.columns}
    assert roles == {
        "numéro client": "id",
        "名前": "id",
        "constant": "ignore",
        "empty": "ignore",
        "mixed": "feature",
        "flag": "feature",
        "comment": "text",
        "y": "target",
    }
    assert contract.column("numéro client").unique and contract.column("名前").unique
    assert contract.column("empty").max_null_share == 1.0
    assert contract.column("mixed").dtype == "category"
    assert contract.column("flag").dtype == "boolean"
    assert contract.column("comment").dtype == "string"


def test_ids_are_found_in_the_data_not_from_names() -> None:
    n = 50
    frame = pd.DataFrame(
        {
            "customer_id": np.tile([1, 2, 3, 4, 5], n // 5),  # named like an id, repeated
            "row": np.random.default_rng(0).permutation(n),  # consecutive integers, shuffled
            "score": np.linspace(0, 1, n),  # all distinct, but a measure
            "y": [0, 1] * (n // 2),
        }
    )
    contract = infer_contract(frame, target="y")
    assert contract.column("customer_id").role == "feature"
    assert contract.column("row").role == "id"
    assert contract.column("score").role == "feature" and not contract.column("score").unique


def test_given_roles_win_and_time_column_is_chosen() -> None:
    frame = pd.DataFrame(
        {
            "created": ["2020-03-01", "2020-01-01", "2020-02-01", "2020-04-01"],
            "updated": ["2020-01-01", "2020-01-02", "2020-01-03", "2020-01-04"],
            "store": ["a", "b", "a", "b"],
            "noise": [1.0, 2.0, 3.0, 4.0],
            "y": [1.0, 2.5, 3.5, 0.5],
        }
    )
    contract = infer_contract(frame, target="y", ignore=["noise"], id_columns=["store"])
    assert contract.column("updated").role == "time"  # the monotonic datetime column
    assert contract.column("created").role == "feature"
    assert contract.column("noise").role == "ignore" and contract.column("store").role == "id"
    assert not contract.column("store").unique
    chosen = infer_contract(frame, target="y", time_column="created")
    assert chosen.column("created").role == "time" and chosen.column("updated").role == "feature"


@pytest.mark.parametrize(
    ("values", "dtype"),
    [
        (["2013-01-01T10:00:00Z", "2013-01-02T11:00:00Z", None], "datetime"),
        (["01/02/2020", "03/04/2021", "05/06/2022"], "datetime"),
        (["2013", "2014", "2015"], "string"),  # bare numbers are not dates
        (pd.Series([1.5, None, 2.0]), "float"),
        (pd.array([1, None, 3], dtype="Int64"), "integer"),
        (pd.Categorical(["a", "b", "c"]), "category"),
        ([True, None, False], "boolean"),
    ],
)
def test_dtype_rules(values: object, dtype: str) -> None:
    assert infer_dtype(pd.Series(values)) == dtype


def test_bad_targets_and_conflicting_roles() -> None:
    frame = pd.DataFrame({"churn": ["Yes", "No"], "age": [30, 40], "empty": [None, None]})
    with pytest.raises(DataError, match="target column 'churm' is not in the data") as info:
        infer_contract(frame, target="churm")
    assert "churn" in str(info.value.hint)
    with pytest.raises(DataError, match="has no values"):
        infer_contract(frame, target="empty")
    with pytest.raises(DataError, match="sensitive column 'gender'"):
        infer_contract(frame, target="churn", sensitive=["gender"])
    with pytest.raises(InvalidInputError, match="two roles"):
        infer_contract(frame, target="churn", ignore=["churn"])
    with pytest.raises(DataError, match="no rows"):
        infer_contract(frame.iloc[:0], target=None)


@pytest.mark.parametrize(
    ("values", "task"),
    [
        (["Yes", "No", "Yes"], "binary"),
        ([0, 1, 1, None], "binary"),
        (["a", "b", "c", "a"], "multiclass"),
        ([1, 2, 3] * 20, "multiclass"),
        ([1.0, 2.0, 3.0] * 20, "multiclass"),  # integer levels read as floats
        (list(range(60)), "regression"),
        ([0.5, 1.25, 3.0] * 20, "regression"),
    ],
)
def test_infer_task(values: list[object], task: str) -> None:
    assert infer_task(pd.Series(values, name="y")) == task


def test_infer_task_refuses_a_single_class_or_no_values() -> None:
    with pytest.raises(DataError, match="only one class"):
        infer_task(pd.Series(["Yes", "Yes", None], name="churn"))
    with pytest.raises(DataError, match="no values"):
        infer_task(pd.Series([None, None], name="churn"))
    with pytest.raises(DataError, match="holds dates"):
        infer_task(pd.Series(pd.to_datetime(["2020-01-01", "2020-01-02", "2020-01-03"])))
