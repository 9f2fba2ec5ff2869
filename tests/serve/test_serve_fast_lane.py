"""The prediction fast lane answers exactly as the FastAPI route would, through a real server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pandas as pd
import pytest
from serve_support import RecordingSink, records_of, wait_for

from loopml.serve import LoadedModel, StaticResolver, create_app, running_server
from loopml.serve._fast_lane import ROUTE
from loopml.train import ModelBundle

LIMIT = 5_000


@pytest.fixture(scope="module")
def server(churn_model: LoadedModel) -> Iterator[tuple[str, RecordingSink]]:
    sink = RecordingSink()
    app = create_app(StaticResolver({"churn": churn_model}), sink, max_body_bytes=LIMIT)
    with running_server(app) as url:
        yield url, sink


@pytest.fixture(scope="module")
def records(churn_frame: pd.DataFrame, churn_bundle: ModelBundle) -> list[dict[str, Any]]:
    return records_of(churn_frame.iloc[6000:6004], churn_bundle.feature_names)


def without_ids(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "request_id"}


def test_the_lane_and_the_route_give_the_same_answer(
    server: tuple[str, RecordingSink], records: list[dict[str, Any]]
) -> None:
    url = f"{server[0]}/v1/models/churn/predict"
    lane = httpx.post(url, json=records[0])
    route = httpx.post(f"{url}?explain=false", json=records[0])  # a query string: FastAPI

    assert lane.status_code == route.status_code == 200
    assert lane.headers["content-type"] == route.headers["content-type"] == "application/json"
    assert without_ids(lane.json()) == without_ids(route.json())
    assert lane.json()["request_id"] != route.json()["request_id"]


def test_lane_answers_are_logged_and_counted(
    server: tuple[str, RecordingSink], records: list[dict[str, Any]]
) -> None:
    url, sink = server
    before = len(sink.records)
    answer = httpx.post(f"{url}/v1/models/churn/predict", json=records[:2]).json()
    wait_for(lambda: len(sink.records) >= before + 2)

    logged = {r.request_id for r in sink.records[before:]}
    assert logged == {p["request_id"] for p in answer["predictions"]}
    metrics = httpx.get(f"{url}/metrics").text
    assert any(
        line.startswith("loopml_requests_total{")
        and f'route="{ROUTE}"' in line
        and 'version="3"' in line
        and 'status="200"' in line
        for line in metrics.splitlines()
    )


def test_a_body_sent_in_chunks_is_read_whole(
    server: tuple[str, RecordingSink], records: list[dict[str, Any]]
) -> None:
    body = httpx.Request("POST", "/", json=records[1]).content

    def chunks() -> Iterator[bytes]:
        yield body[:10]
        yield body[10:]

    response = httpx.post(f"{server[0]}/v1/models/churn/predict", content=chunks())

    assert response.status_code == 200 and response.json()["model"] == "churn:3"


def test_a_chunked_body_over_the_limit_is_413_from_the_route(
    server: tuple[str, RecordingSink], records: list[dict[str, Any]]
) -> None:
    record = httpx.Request("POST", "/", json=records[0]).content

    def chunks() -> Iterator[bytes]:  # no Content-Length: the size is known only while reading
        yield b"["
        for _ in range(LIMIT // len(record) + 2):
            yield record + b","
        yield record + b"]"

    response = httpx.post(f"{server[0]}/v1/models/churn/predict", content=chunks())

    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


@pytest.mark.parametrize(
    ("path", "body", "status", "error"),
    [
        ("/v1/models/fraud/predict", {}, 404, "not_found"),
        ("/v1/models/churn/predict", {"tenure": "x"}, 422, "invalid_input"),
        ("/v1/models/churn/predict", b"{nope", 400, "invalid_json"),
    ],
)
def test_failures_are_answered_by_the_route_in_the_one_error_shape(
    server: tuple[str, RecordingSink], path: str, body: Any, status: int, error: str
) -> None:
    content = body if isinstance(body, bytes) else httpx.Request("POST", "/", json=body).content
    response = httpx.post(f"{server[0]}{path}", content=content)

    assert response.status_code == status
    assert response.json()["error"] == error


def test_middleware_added_after_the_app_is_built_sees_every_prediction(
    churn_model: LoadedModel, records: list[dict[str, Any]]
) -> None:
    """An authentication middleware a user adds must not be skipped by the lane."""
    app = create_app(StaticResolver({"churn": churn_model}))
    assert app.lane_open
    seen: list[str] = []

    @app.middleware("http")
    async def audit(request: Any, call_next: Any) -> Any:
        seen.append(request.url.path)
        response = await call_next(request)
        response.headers["x-audited"] = "yes"
        return response

    assert not app.lane_open
    with running_server(app) as url:
        answer = httpx.post(f"{url}/v1/models/churn/predict", json=records[0])

    assert answer.status_code == 200
    assert answer.headers["x-audited"] == "yes"
    assert seen[-1] == "/v1/models/churn/predict"
