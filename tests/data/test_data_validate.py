"""Validation against the contract: row- and dataset-level violations, and policies."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest

from loopml.data import (
    REASON_COLUMN,
    ColumnSpec,
    DataContract,
    compile_schema,
    enforce,
    infer_contract,
    validate,
)
from loopml.errors import DataError, InvalidInputError


@pytest.fixture(scope="module")
def churn_contract(churn: pd.DataFrame) -> DataContract:
    return infer_contract(churn, target="churn")


@pytest.fixture
def broken(churn: pd.DataFrame) -> pd.DataFrame:
    frame = churn.copy().set_index(churn.index + 1000)  # positions, not labels, are reported
    frame.loc[1003, "tenure"] = -5
    frame.loc[[1004, 1009], "contract"] = "Weekly"
    frame["monthly_charges"] = frame["monthly_charges"].astype(object)
    frame.loc[1005, "monthly_charges"] = "abc"
    return frame


def test_the_data_it_was_inferred_from_is_valid(
    churn: pd.DataFrame, churn_contract: DataContract
) -> None:
    report = validate(churn, churn_contract, require_target=True)
    assert report.ok and report.violations == [] and len(report.bad_rows) == 0
    assert report.n_rows == len(churn)
    assert enforce(report, "fail", churn) is churn


def test_row_level_violations_name_rows_and_values(
    broken: pd.DataFrame, churn_contract: DataContract
) -> None:
    report = validate(broken, churn_contract)
    assert not report.ok
    found = {(v.column, v.check): v for v in report.violations}
    assert set(found) == {
        ("tenure", "in_range"),
        ("contract", "allowed_categories"),
        ("monthly_charges", "dtype"),
    }
    assert found["tenure", "in_range"].examples == [-5] and found["tenure", "in_range"].rows == [3]
    assert found["contract", "allowed_categories"].count == 2
    assert found["contract", "allowed_categories"].message == (
        "Column 'contract' has 2 values not among its categories (e.g. 'Weekly')."
    )
    assert found["monthly_charges", "dtype"].examples == ["abc"]
    assert report.bad_rows.tolist() == [3, 4, 5, 9]
    good = report.good(broken)
    assert len(good) == len(broken) - 4 and good.index[3] == 1006
    quarantined = report.quarantine(broken)
    assert quarantined[REASON_COLUMN].tolist() == [
        "tenure: in_range",
        "contract: allowed_categories",
        "monthly_charges: dtype",
        "contract: allowed_categories",
    ]
    json.dumps(report.to_dict())


def test_dataset_level_violations_and_extra_columns(
    churn: pd.DataFrame, churn_contract: DataContract
) -> None:
    frame = churn.drop(columns=["partner", "churn"]).assign(extra=1)
    frame.loc[:2000, "total_charges"] = np.nan
    report = validate(frame, churn_contract)
    assert [(v.column, v.check) for v in report.violations] == [
        ("partner", "missing_column"),
        ("total_charges", "max_null_share"),
    ]
    assert report.violations[1].message == (
        "Column 'total_charges' has 28.5% missing values; the contract allows at most 1.2%."
    )
    assert report.extra_columns == ["extra"] and len(report.bad_rows) == 0
    target_missing = validate(churn.drop(columns="churn"), churn_contract, require_target=True)
    assert [(v.column, v.check) for v in target_missing.violations] == [("churn", "missing_column")]


def test_uniqueness_and_typed_checks() -> None:
    contract = DataContract(
        columns=[
            ColumnSpec(name="id", dtype="integer", role="id", unique=True),
            ColumnSpec(name="n", dtype="integer", max_null_share=0.5),
            ColumnSpec(name="when", dtype="datetime", max_null_share=0.5),
            ColumnSpec(name="flag", dtype="boolean"),
            ColumnSpec(name="code", dtype="category", categories=["1", "2"]),
        ]
    )
    frame = pd.DataFrame(
        {
            "id": [1, 2, 2, 3],
            "n": [1.0, 2.5, None, 4.0],
            "when": ["2020-01-01", "soon", None, "2020-01-03T10:00:00Z"],
            "flag": ["yes", "no", "maybe", "TRUE"],
            "code": [1.0, 2.0, 3.0, 1.0],  # a category column read back as floats
        }
    )
    report = validate(frame, contract)
    assert {(v.column, v.check): v.rows for v in report.violations} == {
        ("id", "unique"): [2],  # the first occurrence is kept
        ("n", "dtype"): [1],
        ("when", "dtype"): [1],
        ("flag", "dtype"): [2],
        ("code", "allowed_categories"): [2],
    }


def test_schema_is_compiled_once_per_contract(churn_contract: DataContract) -> None:
    assert compile_schema(churn_contract) is compile_schema(churn_contract)
    assert compile_schema(churn_contract) is not compile_schema(churn_contract, require_target=True)


def test_policies(
    broken: pd.DataFrame, churn_contract: DataContract, caplog: pytest.LogCaptureFixture
) -> None:
    report = validate(broken, churn_contract)
    with pytest.raises(DataError, match="breaks its contract in 3 way") as info:
        enforce(report, "fail", broken)
    assert "Column 'tenure' has 1 value outside [0, 72] (e.g. -5)." in info.value.message
    assert info.value.details["n_bad_rows"] == 4
    with caplog.at_level(logging.WARNING, logger="loopml.data"):
        assert len(enforce(report, "warn", broken)) == len(broken)
    assert "breaks its contract" in caplog.text
    assert len(enforce(report, "quarantine", broken)) == len(broken) - 4
    with pytest.raises(InvalidInputError, match="Unknown validation policy"):
        enforce(report, "ignore", broken)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="report is about"):
        enforce(report, "quarantine", broken.iloc[:10])


def test_quarantine_cannot_fix_dataset_level_violations(
    churn: pd.DataFrame, churn_contract: DataContract
) -> None:
    frame = churn.drop(columns="tenure")
    report = validate(frame, churn_contract)
    with pytest.raises(DataError, match="Column 'tenure' is missing"):
        enforce(report, "quarantine", frame)


def test_duplicated_columns_are_refused(churn_contract: DataContract) -> None:
    frame = pd.DataFrame([[1, 2]], columns=["tenure", "tenure"])
    with pytest.raises(DataError, match="duplicated column names: tenure"):
        validate(frame, churn_contract)
