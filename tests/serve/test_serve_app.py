"""The prediction API, exercised through a real uvicorn server on loopback."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pandas as pd
import pytest
from serve_support import RecordingSink, records_of, wait_for

from loopml.errors import StoreError
from loopml.serve import (
    LoadedModel,
    ModelResolver,
    StaticResolver,
    create_app,
    get_resolver,
    running_server,
)
from loopml.train import ModelBundle


@pytest.fixture(scope="module")
def client(served: tuple[str, RecordingSink]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served[0], timeout=10.0) as c:
        yield c


@pytest.fixture(scope="module")
def rows(churn_frame: pd.DataFrame) -> pd.DataFrame:
    return churn_frame.iloc[5000:5008]


@pytest.fixture(scope="module")
def records(rows: pd.DataFrame, churn_bundle: ModelBundle) -> list[dict[str, Any]]:
    return records_of(rows, churn_bundle.feature_names)


def test_one_record_gets_its_prediction_and_probabilities(
    client: httpx.Client, records: list[dict[str, Any]], churn_bundle: ModelBundle
) -> None:
    response = client.post("/v1/models/churn/predict", json=records[0])

    assert response.status_code == 200
    body = response.json()
    expected = churn_bundle.predict_frame(pd.DataFrame([records[0]])).iloc[0]
    assert len(body["request_id"]) == 32 and int(body["request_id"], 16) >= 0
    assert body["model"] == "churn:3" and body["model_version"] == 3
    assert body["prediction"] == expected["prediction"]
    assert body["probability_Yes"] == pytest.approx(expected["probability_Yes"])
    assert body["probability_No"] + body["probability_Yes"] == pytest.approx(1.0)
    assert "warnings" not in body


@pytest.mark.parametrize("wrap", [lambda r: r, lambda r: {"records": r}], ids=["list", "wrapped"])
def test_a_list_of_records_gets_one_prediction_each_in_order(
    client: httpx.Client,
    records: list[dict[str, Any]],
    churn_bundle: ModelBundle,
    wrap: Callable[[list[dict[str, Any]]], Any],
) -> None:
    response = client.post("/v1/models/churn/predict", json=wrap(records))

    assert response.status_code == 200
    body = response.json()
    assert body["model"] == "churn:3" and body["model_version"] == 3
    expected = churn_bundle.predict_frame(pd.DataFrame(records))
    predictions = body["predictions"]
    assert [p["prediction"] for p in predictions] == expected["prediction"].tolist()
    assert [p["probability_Yes"] for p in predictions] == pytest.approx(
        expected["probability_Yes"].tolist()
    )
    for p in predictions:
        assert p["probability_No"] + p["probability_Yes"] == pytest.approx(1.0)
    assert len({p["request_id"] for p in predictions}) == len(records)


def test_a_nullable_field_may_be_null_but_not_left_out(
    client: httpx.Client, records: list[dict[str, Any]]
) -> None:
    record = {k: v for k, v in records[0].items() if k != "total_charges"}
    left_out = client.post("/v1/models/churn/predict", json=record)
    assert left_out.status_code == 422
    assert "total_charges" in left_out.json()["message"]
    assert (
        client.post("/v1/models/churn/predict", json={**record, "total_charges": None}).status_code
        == 200
    )


def problems(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "invalid_input"
    assert body["message"].endswith(".")
    return list(body["details"])


def test_a_missing_required_field_is_named(
    client: httpx.Client, records: list[dict[str, Any]]
) -> None:
    record = {k: v for k, v in records[0].items() if k != "tenure"}
    response = client.post("/v1/models/churn/predict", json=record)

    assert problems(response) == [{"field": "tenure", "record": 0, "message": "is required"}]
    assert "'tenure'" in response.json()["message"]


def test_a_value_of_the_wrong_type_is_rejected(
    client: httpx.Client, records: list[dict[str, Any]]
) -> None:
    response = client.post("/v1/models/churn/predict", json={**records[0], "tenure": "twelve"})

    [problem] = problems(response)
    assert problem["field"] == "tenure" and problem["message"].startswith("is invalid")


def test_an_unknown_field_is_rejected_by_name(
    client: httpx.Client, records: list[dict[str, Any]]
) -> None:
    response = client.post("/v1/models/churn/predict", json={**records[0], "tenure_months": 3})

    assert problems(response) == [
        {"field": "tenure_months", "record": 0, "message": "is not an input of this model"}
    ]


def test_nan_and_infinity_are_rejected_naming_the_field(
    client: httpx.Client, records: list[dict[str, Any]]
) -> None:
    import json

    for token in ("NaN", "Infinity"):
        text = json.dumps({**records[0], "monthly_charges": 0.0}).replace(
            '"monthly_charges": 0.0', f'"monthly_charges": {token}'
        )
        response = client.post(
            "/v1/models/churn/predict", content=text, headers={"content-type": "application/json"}
        )
        [problem] = problems(response)
        assert problem["field"] == "monthly_charges" and "finite" in problem["message"]


def test_errors_in_a_list_name_the_record(
    client: httpx.Client, records: list[dict[str, Any]]
) -> None:
    bad = [records[0], {**records[1], "contract": None}, 7]
    details = problems(client.post("/v1/models/churn/predict", json=bad))

    assert [(d["record"], d["field"]) for d in details] == [(1, "contract"), (2, None)]
    assert details[1]["message"] == "must be a JSON object mapping field names to values"


def test_unseen_categories_are_accepted_with_a_warning(
    client: httpx.Client, records: list[dict[str, Any]]
) -> None:
    record = {**records[0], "contract": "Weekly", "tenure": 500}
    response = client.post("/v1/models/churn/predict", json=record)

    assert response.status_code == 200
    warnings = response.json()["warnings"]
    assert [w["field"] for w in warnings] == ["tenure", "contract"]
    assert "'Weekly'" in warnings[1]["message"] and "training maximum" in warnings[0]["message"]


def test_the_contract_policies_refuse_unseen_values_and_ignore_extra_fields(
    churn_bundle: ModelBundle, records: list[dict[str, Any]]
) -> None:
    policies = {"extra_fields": "ignore", "unknown_categories": "reject", "out_of_range": "reject"}
    contract = churn_bundle.contract.model_copy(update=policies)
    strict = LoadedModel("churn", 4, dataclasses.replace(churn_bundle, contract=contract))
    with running_server(create_app(StaticResolver({"churn": strict}))) as url:
        extra = httpx.post(f"{url}/v1/models/churn/predict", json={**records[0], "note": "hi"})
        unseen = httpx.post(
            f"{url}/v1/models/churn/predict",
            json=[records[0], {**records[1], "contract": "Weekly", "tenure": 500}],
        )

    assert extra.status_code == 200 and "warnings" not in extra.json()
    assert unseen.status_code == 422
    body = unseen.json()
    assert body["message"].startswith("2 values the contract refuses; the first: record 1")
    assert [(d["record"], d["field"]) for d in body["details"]] == [(1, "tenure"), (1, "contract")]


def test_an_unknown_model_is_404_naming_the_known_ones(client: httpx.Client) -> None:
    response = client.post("/v1/models/fraud/predict", json={})

    assert response.status_code == 404
    assert response.json() == {
        "error": "not_found",
        "message": "No model named 'fraud' is served.",
        "hint": "Known models: churn.",
    }


@pytest.mark.parametrize("content", [b"{not json", b"", b"   "], ids=["garbage", "empty", "blank"])
def test_a_body_that_is_not_json_is_a_client_error(client: httpx.Client, content: bytes) -> None:
    response = client.post("/v1/models/churn/predict", content=content)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_json"


@pytest.mark.parametrize("payload", [3, "text", {"records": 3}, []], ids=str)
def test_json_of_the_wrong_shape_is_rejected(client: httpx.Client, payload: Any) -> None:
    response = client.post("/v1/models/churn/predict", json=payload)

    assert response.status_code == 422
    assert response.json()["error"] == "invalid_input"


def test_an_oversized_body_is_413(client: httpx.Client, records: list[dict[str, Any]]) -> None:
    many = records * 400  # well over the 200 kB limit of the test server

    declared = client.post("/v1/models/churn/predict", json=many)
    streamed = client.post(
        "/v1/models/churn/predict",
        content=iter([b"[", b'{"a": 1},' * 30_000, b"{}]"]),  # chunked: no Content-Length
    )

    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.json()["error"] == "payload_too_large"


def test_health_ready_and_model_listing(client: httpx.Client) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200
    assert ready.json() == {
        "ready": True,
        "models": {"churn": "churn:3"},
        "backends": {"churn": {"kind": "compiled"}},
    }
    listed = client.get("/v1/models").json()["models"]
    assert [(m["name"], m["version"], m["ref"]) for m in listed] == [("churn", 3, "churn:3")]


def test_a_model_describes_its_request_fields(
    client: httpx.Client, churn_bundle: ModelBundle
) -> None:
    body = client.get("/v1/models/churn").json()

    assert body["classes"] == ["No", "Yes"]
    assert list(body["request_schema"]["properties"]) == churn_bundle.feature_names


def test_openapi_documents_every_feature_field(
    client: httpx.Client, churn_bundle: ModelBundle
) -> None:
    document = client.get("/openapi.json").json()

    operation = document["paths"]["/v1/models/churn/predict"]["post"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["anyOf"][0]["$ref"]
    record = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert list(record["properties"]) == churn_bundle.feature_names
    assert record["additionalProperties"] is False
    assert set(record["required"]) == set(churn_bundle.feature_names)
    assert {"type": "null"} in record["properties"]["total_charges"]["anyOf"]
    assert all(field["description"] for field in record["properties"].values())
    assert "Months with the company" in record["properties"]["tenure"]["description"]
    assert "Month-to-month" in record["properties"]["contract"]["description"]
    assert {"422", "404", "413"} <= set(operation["responses"])


def test_unknown_routes_answer_in_the_error_shape(client: httpx.Client) -> None:
    response = client.get("/v2/anything")

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert client.get("/v1/models/churn/predict").json()["error"] == "method_not_allowed"


def test_every_prediction_is_logged_with_the_request_ids_it_answered(
    served: tuple[str, RecordingSink], client: httpx.Client, records: list[dict[str, Any]]
) -> None:
    sink = served[1]
    before = len(sink.records)
    single = client.post("/v1/models/churn/predict", json=records[0]).json()
    batch = client.post("/v1/models/churn/predict", json=records[:3]).json()
    wait_for(lambda: len(sink.records) >= before + 4)

    logged = {r.request_id: r for r in sink.records[before:]}
    answered = [single, *batch["predictions"]]
    assert set(logged) == {a["request_id"] for a in answered}
    for answer, record in zip(answered, [records[0], *records[:3]], strict=True):
        entry = logged[answer["request_id"]]
        assert (entry.model_name, entry.model_version) == ("churn", 3)
        assert entry.inputs == record
        assert entry.outputs == {
            k: answer[k] for k in ("prediction", "probability_No", "probability_Yes")
        }
        assert entry.latency_ms > 0


class FlakyResolver(ModelResolver):
    """Serves churn, knows 'broken' but cannot load it, and counts refreshes."""

    def __init__(self, model: LoadedModel) -> None:
        self.model = model
        self.refreshes = 0

    def resolve(self, name: str) -> LoadedModel:
        if name == "broken":
            raise StoreError("The registry cannot be reached.")
        return StaticResolver({"churn": self.model}).resolve(name)

    def names(self) -> list[str]:
        return ["broken", "churn"]

    def refresh(self) -> None:
        self.refreshes += 1


def test_ready_is_503_naming_models_that_fail_to_load(churn_model: LoadedModel) -> None:
    app = create_app(StaticResolver({"churn": churn_model}))
    app.dependency_overrides[get_resolver] = lambda: FlakyResolver(churn_model)
    with running_server(app) as url:
        ready = httpx.get(f"{url}/ready")
        listed = httpx.get(f"{url}/v1/models").json()["models"]
        broken = httpx.post(f"{url}/v1/models/broken/predict", json={})

    assert ready.status_code == 503
    assert ready.json() == {
        "ready": False,
        "models": {"churn": "churn:3"},
        "failed": {"broken": "The registry cannot be reached."},
        "backends": {"churn": {"kind": "compiled"}},
    }
    assert listed[0]["error"]["error"] == "store_unavailable"
    assert broken.status_code == 503 and broken.json()["error"] == "store_unavailable"


def test_a_server_without_models_is_not_ready() -> None:
    with running_server(create_app(StaticResolver({}))) as url:
        response = httpx.get(f"{url}/ready")
        unknown = httpx.post(f"{url}/v1/models/churn/predict", json={})

    assert response.status_code == 503 and response.json()["ready"] is False
    assert unknown.json()["hint"] == "This server serves no models."


def test_the_resolver_is_refreshed_periodically_when_asked(churn_model: LoadedModel) -> None:
    resolver = FlakyResolver(churn_model)
    with running_server(create_app(resolver, refresh_interval=0.01)):
        wait_for(lambda: resolver.refreshes >= 2)


class ExplodingPipeline:
    def predict_proba(self, frame: pd.DataFrame) -> Any:
        raise RuntimeError("secret internal detail")


def test_an_unexpected_failure_is_500_without_a_traceback(
    churn_bundle: ModelBundle, records: list[dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    bundle = ModelBundle(ExplodingPipeline(), churn_bundle.contract, "binary", ["No", "Yes"], "Yes")
    app = create_app(StaticResolver({"churn": LoadedModel("churn", 1, bundle)}))
    with running_server(app) as url:
        response = httpx.post(f"{url}/v1/models/churn/predict", json=records[0])

    assert response.status_code == 500
    assert response.json()["error"] == "internal_error"
    assert "secret" not in response.text and "Traceback" not in response.text
    assert "secret internal detail" in caplog.text  # kept for the operator, in the server log


def test_the_sink_is_closed_after_the_last_prediction_on_shutdown(
    churn_model: LoadedModel, records: list[dict[str, Any]]
) -> None:
    sink = RecordingSink()
    with running_server(create_app(StaticResolver({"churn": churn_model}), sink)) as url:
        answer = httpx.post(f"{url}/v1/models/churn/predict", json=records).json()
        assert not sink.closed

    assert sink.closed
    assert [r.request_id for r in sink.records] == [p["request_id"] for p in answer["predictions"]]
