"""Request schemas compiled from a data contract: validation, frames, warnings, documentation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest

from loopml.data import ColumnSpec, DataContract
from loopml.errors import InvalidInputError
from loopml.serve import RequestSchema, build_request_schema
from loopml.serve._schema import MAX_ERROR_DETAILS


def contract(**policies: Any) -> DataContract:
    return DataContract(
        columns=[
            ColumnSpec(name="id", dtype="string", role="id"),
            ColumnSpec(name="total charges", dtype="float", min=0.0, max=100.0),
            ColumnSpec(name="model_config", dtype="integer", max_null_share=0.2),
            ColumnSpec(name="class", dtype="category", categories=["a", "b"], max_null_share=0.1),
            ColumnSpec(name="active", dtype="boolean"),
            ColumnSpec(name="note", dtype="string", role="text", description="Free text."),
            ColumnSpec(name="seen", dtype="datetime"),
            ColumnSpec(name="label", dtype="category", role="target", categories=["x", "y"]),
        ],
        target="label",
        **policies,
    )


@pytest.fixture(scope="module")
def schema() -> RequestSchema:
    return build_request_schema("my-model", contract())


def record(**overrides: Any) -> dict[str, Any]:
    base = {
        "total charges": 12.5,
        "model_config": 3,
        "class": "a",
        "active": True,
        "note": "hello",
        "seen": "2024-05-01T10:00:00",
    }
    for key, value in overrides.items():
        name = key.replace("_", " ") if key == "total_charges" else key
        if value is ...:
            base.pop(name)
        else:
            base[name] = value
    return base


def rejected(schema: RequestSchema, records: list[Any]) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as caught:
        schema.validate(records)
    return caught.value


def test_the_schema_covers_the_model_inputs_in_contract_order(schema: RequestSchema) -> None:
    assert schema.column_names == [
        "total charges",
        "model_config",
        "class",
        "active",
        "note",
        "seen",
    ]


def test_validated_records_become_a_frame_in_training_order_and_dtypes(
    schema: RequestSchema,
) -> None:
    values = schema.validate([record(), record(model_config=None, **{"class": None})])
    frame = schema.frame(values)

    assert list(frame.columns) == schema.column_names
    assert frame["total charges"].dtype == np.float64
    assert frame["model_config"].dtype == np.float64 and np.isnan(frame["model_config"][1])
    assert pd.isna(frame["class"][1]) and frame["class"][0] == "a"
    assert frame["active"].dtype == bool
    assert pd.api.types.is_datetime64_any_dtype(frame["seen"])
    assert frame["seen"][0] == pd.Timestamp("2024-05-01T10:00:00")


def test_integers_without_missing_values_stay_integers(schema: RequestSchema) -> None:
    frame = schema.frame(schema.validate([record(model_config=4.0)]))

    assert frame["model_config"].dtype == np.int64 and frame["model_config"][0] == 4


def test_a_column_of_only_missing_text_is_an_object_column(schema: RequestSchema) -> None:
    frame = schema.frame(schema.validate([record(**{"class": None})]))

    assert frame["class"].dtype == object and frame["class"].isna().all()


def test_every_field_must_be_sent_but_nullable_ones_may_be_null(schema: RequestSchema) -> None:
    assert schema.validate([record(model_config=None)])["model_config"] == [None]

    error = rejected(schema, [record(model_config=..., total_charges=...)])
    assert error.details == [
        {"field": "total charges", "record": 0, "message": "is required"},
        {"field": "model_config", "record": 0, "message": "is required"},
    ]
    assert error.message == (
        "2 problems in the request; the first: record 0, field 'total charges' is required."
    )


def test_required_fields_are_not_nullable(schema: RequestSchema) -> None:
    [detail] = rejected(schema, [record(active=None)]).details

    assert detail["field"] == "active" and detail["message"].startswith("is invalid")


def test_extra_fields_and_non_finite_numbers_are_refused(schema: RequestSchema) -> None:
    error = rejected(schema, [record(label="x"), record(total_charges=float("inf"))])

    assert [(d["record"], d["field"], d["message"]) for d in error.details] == [
        (0, "label", "is not an input of this model"),
        (1, "total charges", "must be a finite number (NaN and infinity are not accepted)"),
    ]


def test_numbers_are_accepted_for_text_fields(schema: RequestSchema) -> None:
    assert schema.validate([record(note=42)])["note"] == ["42"]


def test_a_record_that_is_not_an_object_is_refused(schema: RequestSchema) -> None:
    error = rejected(schema, [[1, 2]])

    assert error.message == ("Record 0 must be a JSON object mapping field names to values.")


def test_no_records_is_an_error(schema: RequestSchema) -> None:
    assert rejected(schema, []).message == "The request holds no records."


def test_many_problems_are_counted_but_details_are_capped(schema: RequestSchema) -> None:
    error = rejected(schema, [record(active="maybe")] * (MAX_ERROR_DETAILS + 5))

    assert len(error.details) == MAX_ERROR_DETAILS
    assert error.message.startswith(f"{MAX_ERROR_DETAILS + 5} problems in the request")


def test_mixed_time_zones_are_read_as_utc(schema: RequestSchema) -> None:
    values = schema.validate(
        [record(seen="2024-05-01T10:00:00+02:00"), record(seen=datetime(2024, 5, 1, 8))]
    )
    frame = schema.frame(values)

    assert frame["seen"][0] == frame["seen"][1] == pd.Timestamp("2024-05-01T08:00:00Z")


def test_values_unlike_training_are_flagged_not_refused(schema: RequestSchema) -> None:
    records = [record(), record(total_charges=-1.0, **{"class": "c"}), record(total_charges=101)]
    warnings = schema.warnings(schema.validate(records), len(records))

    assert warnings[0] == []
    assert [w["field"] for w in warnings[1]] == ["total charges", "class"]
    assert "below the training minimum 0" in warnings[1][0]["message"]
    assert "'c' is a category the model did not see" in warnings[1][1]["message"]
    assert "above the training maximum 100" in warnings[2][0]["message"]


def test_bounds_and_missing_values_are_not_flagged(schema: RequestSchema) -> None:
    records = [record(total_charges=0.0), record(total_charges=100.0, **{"class": None})]

    assert schema.warnings(schema.validate(records), len(records)) == [[], []]


def test_the_json_schema_documents_every_field_with_an_example(schema: RequestSchema) -> None:
    document = schema.record_model.model_json_schema(by_alias=True)

    assert list(document["properties"]) == [*schema.column_names, "id"]
    assert document["required"] == schema.column_names
    assert "required; may be null" in document["properties"]["class"]["description"]
    assert document["additionalProperties"] is False
    properties = document["properties"]
    assert "not a model input" in properties.pop("id")["description"]
    assert properties["note"]["description"].startswith("Free text; string column")
    assert "known categories: a, b" in properties["class"]["description"]
    assert "training range [0.0, 100.0]" in properties["total charges"]["description"]
    assert all(p.get("examples") for p in properties.values())
    [example] = document["examples"]
    schema.validate([example])  # the documented example is itself a valid request


def test_a_contract_without_inputs_cannot_be_served() -> None:
    contract = DataContract(
        columns=[ColumnSpec(name="y", dtype="float", role="target")], target="y"
    )

    with pytest.raises(InvalidInputError, match="has no feature columns"):
        build_request_schema("empty", contract)


def test_contract_columns_that_are_not_inputs_are_accepted_and_ignored() -> None:
    contract = DataContract(
        columns=[
            ColumnSpec(name="customer_id", dtype="string", role="id", unique=True),
            ColumnSpec(name="signed_up", dtype="datetime", role="time"),
            ColumnSpec(name="tenure", dtype="integer"),
            ColumnSpec(name="churn", dtype="category", role="target", categories=["No", "Yes"]),
        ],
        target="churn",
    )
    schema = build_request_schema("churn", contract)
    values = schema.validate([{"customer_id": "c-1", "signed_up": "2024-01-01", "tenure": 3}])
    assert values == {"tenure": [3]}
    with pytest.raises(InvalidInputError):
        schema.validate([{"tenure": 3, "churn": "No"}])
    with pytest.raises(InvalidInputError) as info:
        schema.validate([{"tenure": 3, "favourite_colour": "blue"}])
    assert info.value.details[0]["field"] == "favourite_colour"


def test_the_extra_fields_policy_ignore_drops_unknown_fields() -> None:
    lenient = build_request_schema("my-model", contract(extra_fields="ignore"))
    values = lenient.validate([record(colour="red", label="x")])
    assert "colour" not in values and values["class"] == ["a"]


def test_the_reject_policies_refuse_unseen_categories_and_out_of_range_numbers() -> None:
    strict = build_request_schema(
        "my-model", contract(unknown_categories="reject", out_of_range="reject")
    )
    values = strict.validate([record(), record(**{"class": "z"}), record(total_charges=150.0)])
    with pytest.raises(InvalidInputError) as caught:
        strict.warnings(values, 3)
    error = caught.value
    first = "2 values the contract refuses; the first: record 1, field 'class'"
    assert str(error).startswith(first)
    refused = [(d["record"], d["field"]) for d in error.details]
    assert refused == [(1, "class"), (2, "total charges")]
    properties = strict.record_model.model_json_schema(by_alias=True)["properties"]
    assert "(others are refused)" in properties["class"]["description"]
    assert "(values outside are refused)" in properties["total charges"]["description"]


def test_only_the_rejecting_policy_refuses() -> None:
    mixed = build_request_schema("my-model", contract(unknown_categories="reject"))
    values = mixed.validate([record(total_charges=150.0)])
    [flags] = mixed.warnings(values, 1)
    assert [f["field"] for f in flags] == ["total charges"]
