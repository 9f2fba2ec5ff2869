"""`POST /v1/models/{name}/predict?explain=true`: top contributions per record, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pandas as pd
import pytest
from serve_support import records_of
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier

from loopml.evaluate import explain
from loopml.serve import LoadedModel, StaticResolver, create_app, running_server
from loopml.serve._interfaces import MAX_BACKGROUND_ROWS
from loopml.train import ModelBundle


@pytest.fixture(scope="module")
def explained(churn_bundle: ModelBundle, churn_frame: pd.DataFrame) -> LoadedModel:
    return LoadedModel("churn", 3, churn_bundle, background=churn_frame.iloc[:2000])


@pytest.fixture(scope="module")
def client(explained: LoadedModel, churn_bundle: ModelBundle) -> Iterator[httpx.Client]:
    models = {"churn": explained, "bare": LoadedModel("bare", 1, churn_bundle)}
    with (
        running_server(create_app(StaticResolver(models))) as url,
        httpx.Client(base_url=url, timeout=10.0) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def records(churn_frame: pd.DataFrame, churn_bundle: ModelBundle) -> list[dict[str, Any]]:
    return records_of(churn_frame.iloc[2000:2003], churn_bundle.feature_names)


def test_background_is_sampled_once_at_load_time(explained: LoadedModel) -> None:
    assert explained.background is not None and len(explained.background) == MAX_BACKGROUND_ROWS


def test_explain_adds_top_contributions_in_original_columns(
    client: httpx.Client, records: list[dict[str, Any]], explained: LoadedModel
) -> None:
    response = client.post("/v1/models/churn/predict?explain=true", json=records)
    assert response.status_code == 200, response.text
    predictions = response.json()["predictions"]
    expected = explain(
        explained.bundle, pd.DataFrame(records), top=5, background=explained.background
    )
    features = set(explained.bundle.feature_names)
    for item, want in zip(predictions, expected, strict=True):
        got = item["explanation"]
        assert len(got) == 5 and {c["column"] for c in got} <= features  # no one-hot fragments
        assert [c["column"] for c in got] == [c["column"] for c in want]
        assert [c["contribution"] for c in got] == pytest.approx([c["contribution"] for c in want])
        magnitudes = [abs(c["contribution"]) for c in got]
        assert magnitudes == sorted(magnitudes, reverse=True)


def test_one_record_is_explained_and_default_has_no_explanation(
    client: httpx.Client, records: list[dict[str, Any]]
) -> None:
    single = client.post("/v1/models/churn/predict?explain=true", json=records[0]).json()
    assert len(single["explanation"]) == 5 and "prediction" in single
    plain = client.post("/v1/models/churn/predict", json=records[0]).json()
    assert "explanation" not in plain


def test_a_linear_model_without_background_refuses_to_explain(
    client: httpx.Client, records: list[dict[str, Any]]
) -> None:
    response = client.post("/v1/models/bare/predict?explain=true", json=records)
    assert response.status_code == 422 and response.json()["error"] == "invalid_input"
    assert "without background rows" in response.json()["message"]
    assert client.post("/v1/models/bare/predict", json=records).status_code == 200


def test_a_tree_model_explains_without_background(
    churn_bundle: ModelBundle, churn_frame: pd.DataFrame, records: list[dict[str, Any]]
) -> None:
    pipeline = clone(churn_bundle.pipeline).set_params(
        model=RandomForestClassifier(n_estimators=20, max_depth=4, random_state=0)
    )
    train = churn_frame.iloc[:2000]
    pipeline.fit(train[churn_bundle.feature_names], (train["churn"] == "Yes").astype(int))
    bundle = replace(churn_bundle, pipeline=pipeline, family="random_forest")
    app = create_app(StaticResolver({"forest": LoadedModel("forest", 1, bundle)}))
    with running_server(app) as url:
        response = httpx.post(f"{url}/v1/models/forest/predict?explain=true", json=records)
    assert response.status_code == 200, response.text
    expected = explain(bundle, pd.DataFrame(records), top=5)
    got = [item["explanation"] for item in response.json()["predictions"]]
    assert [[c["column"] for c in row] for row in got] == [
        [c["column"] for c in row] for row in expected
    ]
