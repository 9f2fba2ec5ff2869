"""Feedback, Prometheus metrics and the V2 inference protocol, through a real server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from serve_support import records_of

from loopml.serve import (
    BackgroundPredictionLogger,
    LoadedModel,
    StaticResolver,
    StoreFeedbackSink,
    create_app,
    running_server,
)
from loopml.store import MetadataStore, open_store
from loopml.train import ModelBundle


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MetadataStore]:
    folder: Path = tmp_path_factory.mktemp("protocols")
    with open_store(f"sqlite:///{folder / 'meta.db'}") as opened:
        yield opened


@pytest.fixture(scope="module")
def client(churn_model: LoadedModel, store: MetadataStore) -> Iterator[httpx.Client]:
    sink = BackgroundPredictionLogger(store, flush_interval=0.05)
    app = create_app(
        StaticResolver({"churn": churn_model}), sink, feedback=StoreFeedbackSink(store)
    )
    with running_server(app) as url, httpx.Client(base_url=url, timeout=10.0) as c:
        c.sink = sink  # type: ignore[attr-defined]
        yield c


@pytest.fixture(scope="module")
def records(churn_frame: pd.DataFrame, churn_bundle: ModelBundle) -> list[dict[str, Any]]:
    return records_of(churn_frame.iloc[100:104], churn_bundle.feature_names)


def _predict_ids(client: httpx.Client, records: list[dict[str, Any]]) -> list[str]:
    body = client.post("/v1/models/churn/predict", json=records).json()
    client.sink.flush()  # type: ignore[attr-defined]
    return [item["request_id"] for item in body["predictions"]]


def test_feedback_for_logged_requests_is_stored(
    client: httpx.Client, records: list[dict[str, Any]], store: MetadataStore
) -> None:
    ids = _predict_ids(client, records[:2])

    one = client.post("/v1/feedback", json={"request_id": ids[0], "label": "Yes"})
    many = client.post(
        "/v1/feedback",
        json={
            "feedback": [
                {"request_id": ids[0], "label": "No"},
                {"request_id": ids[1], "label": "Yes"},
            ]
        },
    )

    assert one.status_code == 200 and one.json() == {"stored": 1}
    assert many.status_code == 200 and many.json() == {"stored": 2}
    stored = store.predictions.feedback(ids)
    assert {k: f.label for k, f in stored.items()} == {ids[0]: "No", ids[1]: "Yes"}


def test_feedback_naming_unknown_ids_is_404_and_writes_nothing(
    client: httpx.Client, records: list[dict[str, Any]], store: MetadataStore
) -> None:
    [known] = _predict_ids(client, records[2:3])

    response = client.post(
        "/v1/feedback",
        json=[{"request_id": known, "label": "Yes"}, {"request_id": "nope-1", "label": "No"}],
    )

    assert response.status_code == 404
    assert "nope-1" in response.json()["message"]
    assert store.predictions.feedback([known]) == {}


@pytest.mark.parametrize(
    ("body", "status"),
    [(b"", 400), (b"not json", 400), (b'{"request_id": "x"}', 422), (b"[]", 422)],
    ids=["empty", "not-json", "no-label", "no-items"],
)
def test_malformed_feedback_is_refused_with_one_sentence(
    client: httpx.Client, body: bytes, status: int
) -> None:
    response = client.post("/v1/feedback", content=body)

    assert response.status_code == status
    assert response.json()["message"].endswith(".")


def test_metrics_count_requests_errors_and_latency_per_route_and_version(
    client: httpx.Client, records: list[dict[str, Any]]
) -> None:
    client.post("/v1/models/churn/predict", json=records[0])
    client.post("/v1/models/churn/predict", json={"tenure": "x"})

    text = client.get("/metrics").text

    route = 'route="/v1/models/{name}/predict"'
    ok = [line for line in text.splitlines() if line.startswith("loopml_requests_total{")]
    assert any(route in line and 'version="3"' in line and 'status="200"' in line for line in ok)
    assert any(route in line and 'status="422"' in line for line in ok)
    errors = [line for line in text.splitlines() if line.startswith("loopml_request_errors_total")]
    assert any(route in line and float(line.rsplit(" ", 1)[1]) >= 1 for line in errors)
    latency = "loopml_request_latency_seconds_count{"
    counts = [line for line in text.splitlines() if line.startswith(latency)]
    assert any(route in line and 'model="churn"' in line for line in counts)


def test_each_app_has_its_own_metrics(churn_model: LoadedModel) -> None:
    first = create_app(StaticResolver({"churn": churn_model}))
    second = create_app(StaticResolver({"churn": churn_model}))

    assert first.state.metrics.registry is not second.state.metrics.registry


# -- V2 ------------------------------------------------------------------------------------------
def _v2_inputs(model: LoadedModel, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    types = {"integer": "INT64", "float": "FP64", "category": "BYTES"}
    return [
        {
            "name": spec.name,
            "shape": [len(records)],
            "datatype": types[spec.dtype],
            "data": [r[spec.name] for r in records],
        }
        for spec in model.schema.columns
    ]


def test_v2_health_and_model_metadata_follow_the_protocol(
    client: httpx.Client, churn_model: LoadedModel
) -> None:
    assert client.get("/v2/health/live").json() == {"live": True}
    assert client.get("/v2/health/ready").status_code == 200
    assert client.get("/v2/models/churn/ready").status_code == 200

    meta = client.get("/v2/models/churn").json()

    assert meta["name"] == "churn" and meta["versions"] == ["3"]
    inputs = {i["name"]: i for i in meta["inputs"]}
    assert list(inputs) == churn_model.schema.column_names
    assert inputs["tenure"]["datatype"] == "INT64" and inputs["contract"]["datatype"] == "BYTES"
    assert [o["name"] for o in meta["outputs"]] == [
        "prediction", "probability_No", "probability_Yes", "request_id"
    ]  # fmt: skip
    assert client.get("/v2/models/nope").status_code == 404


def test_v2_infer_answers_columnar_outputs_like_the_v1_api(
    client: httpx.Client, churn_model: LoadedModel, records: list[dict[str, Any]]
) -> None:
    request = {"id": "req-7", "inputs": _v2_inputs(churn_model, records)}

    response = client.post("/v2/models/churn/infer", json=request)

    assert response.status_code == 200
    body = response.json()
    assert body["model_name"] == "churn" and body["model_version"] == "3" and body["id"] == "req-7"
    outputs = {o["name"]: o for o in body["outputs"]}
    expected = churn_model.bundle.predict_frame(pd.DataFrame(records))
    assert outputs["prediction"]["data"] == expected["prediction"].tolist()
    assert outputs["prediction"]["shape"] == [4] and outputs["prediction"]["datatype"] == "BYTES"
    assert outputs["probability_Yes"]["data"] == pytest.approx(expected["probability_Yes"].tolist())
    assert len(set(outputs["request_id"]["data"])) == 4


def test_v2_infer_takes_one_matrix_tensor_and_requested_outputs(
    client: httpx.Client, churn_model: LoadedModel, records: list[dict[str, Any]]
) -> None:
    names = churn_model.schema.column_names
    matrix = [[r[n] for n in names] for r in records[:2]]
    request = {
        "inputs": [
            {"name": "input-0", "shape": [2, len(names)], "datatype": "BYTES", "data": matrix}
        ],
        "outputs": [{"name": "probability_Yes"}],
    }

    body = client.post("/v2/models/churn/infer", json=request).json()

    assert [o["name"] for o in body["outputs"]] == ["probability_Yes"]
    expected = churn_model.bundle.predict_frame(pd.DataFrame(records[:2]))["probability_Yes"]
    assert body["outputs"][0]["data"] == pytest.approx(expected.tolist())


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (lambda inputs: {"inputs": []}, "non-empty 'inputs'"),
        (lambda inputs: {"inputs": [{**inputs[0], "shape": [9]}, *inputs[1:]]}, "shape"),
        (lambda inputs: {"inputs": inputs[1:]}, "required"),
        (lambda inputs: {"inputs": inputs, "outputs": [{"name": "nope"}]}, "no output"),
    ],
    ids=["no-inputs", "bad-shape", "missing-field", "unknown-output"],
)
def test_v2_bad_requests_get_422_with_a_sentence(
    client: httpx.Client,
    churn_model: LoadedModel,
    records: list[dict[str, Any]],
    mutate: Any,
    words: str,
) -> None:
    response = client.post("/v2/models/churn/infer", json=mutate(_v2_inputs(churn_model, records)))

    assert response.status_code == 422
    assert words in response.json()["message"]
