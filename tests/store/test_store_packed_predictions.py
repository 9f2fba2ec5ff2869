"""Prediction records packed column by column for the writer process: they come back equal."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta, timezone

import pytest

from loopml.store import PredictionRecord
from loopml.store._packed_predictions import PackedPredictions

AT = datetime(2026, 11, 23, 16, 20, 51, 655229, tzinfo=UTC)


def record(i: int, **changes: object) -> PredictionRecord:
    fields: dict[str, object] = {
        "request_id": f"r{i}",
        "time": AT + timedelta(microseconds=i),
        "model_name": "churn",
        "model_version": 3,
        "inputs": {"tenure": i, "plan": "gold", "charges": 70.25 + i},
        "outputs": {"prediction": "Yes", "probability_Yes": 0.5 + i / 100},
        "latency_ms": 0.25,
        "deployment": "",
    }
    fields.update(changes)
    return PredictionRecord(**fields)  # type: ignore[arg-type]


def test_records_come_back_equal_through_pickle_in_their_order() -> None:
    records = [
        record(0),
        record(1),
        record(2, model_version=4),  # another model version: a new segment
        record(3, inputs={"tenure": 3}),  # other input names
        record(
            4,
            deployment="churn-ab/b",
            time=datetime(2026, 1, 1, 9, tzinfo=timezone(timedelta(hours=2))),
        ),
        record(5, inputs={}, outputs={}),
        record(6),
    ]
    packed = PackedPredictions()
    packed.add_records(records)

    again = pickle.loads(pickle.dumps(packed))

    assert len(again) == 7
    assert again.records() == records
    assert again.records()[4].time.utcoffset() == timedelta(hours=2)  # kept as it was


def test_a_group_of_records_shares_its_time_and_latency() -> None:
    packed = PackedPredictions()
    packed.add(
        model_name="churn",
        model_version=3,
        deployment="",
        time=AT,
        latency_ms=1.5,
        request_ids=["a", "b"],
        inputs={"tenure": [1, 2], "plan": ["gold", None]},
        outputs={"prediction": ["No", "Yes"]},
    )
    packed.add(
        model_name="churn",
        model_version=3,
        deployment="",
        time=AT + timedelta(seconds=1),
        latency_ms=2.5,
        request_ids=["c"],
        inputs={"tenure": [3], "plan": ["basic"]},
        outputs={"prediction": ["No"]},
    )

    records = pickle.loads(pickle.dumps(packed)).records()

    assert [(r.request_id, r.time, r.latency_ms) for r in records] == [
        ("a", AT, 1.5),
        ("b", AT, 1.5),
        ("c", AT + timedelta(seconds=1), 2.5),
    ]
    assert records[1].inputs == {"tenure": 2, "plan": None}
    assert records[2].outputs == {"prediction": "No"}


def test_columns_must_hold_one_value_per_request_id() -> None:
    with pytest.raises(ValueError, match="must hold 2 values"):
        PackedPredictions().add(
            model_name="churn",
            model_version=3,
            deployment="",
            time=AT,
            latency_ms=1.0,
            request_ids=["a", "b"],
            inputs={"tenure": [1]},
            outputs={"prediction": ["No", "Yes"]},
        )
