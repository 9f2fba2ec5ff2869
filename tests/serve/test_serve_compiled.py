"""The compiled single-record path: equal to the pipeline for every family and column kind, and a
verified fallback to the pipeline for anything it does not understand."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import pytest
from mixed_models import FRAME, mixed_bundle, mixed_frame, wrapped_bundles
from sklearn.base import is_classifier
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from loopml.serve import LoadedModel
from loopml.serve._body import Payload
from loopml.serve._compiled import _forest_trees
from loopml.serve._compiled_predictor import TOLERANCE
from loopml.serve._predict import score


def _records(n: int, seed: int) -> list[dict[str, Any]]:
    frame = mixed_frame(n, seed)[["age", "income", "color", "size", "member", "joined"]]
    rows = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    records = [{str(k): v for k, v in row.items()} for row in rows]
    for i, record in enumerate(records):
        record["joined"] = record["joined"].isoformat()
        if i % 7 == 3:
            record["color"] = "purple"  # unseen in training: accepted, scored as unknown
        if i % 11 == 5:
            record["joined"] = record["joined"] + "+05:30"
    return records


def _assert_same(model: LoadedModel, records: list[dict[str, Any]]) -> None:
    values = model.schema.validate(records)
    got = model.predictor.predict(values, len(records))
    expected = model.bundle.predict_frame(model.schema.frame(values))
    assert list(got) == list(expected.columns)
    for column in expected.columns:
        if not pd.api.types.is_numeric_dtype(expected[column]):
            assert got[column] == expected[column].tolist()
        else:
            np.testing.assert_allclose(got[column], expected[column], rtol=0, atol=TOLERANCE)


FAMILIES = ["linear", "lightgbm", "random_forest", "extra_trees", "knn", "mlp", "svm", "dummy"]
CASES = [
    *((family, "binary") for family in FAMILIES),
    *((family, "multiclass") for family in ("linear", "lightgbm", "random_forest", "mlp")),
    *((family, "regression") for family in ("linear", "lightgbm", "extra_trees", "svm", "knn")),
]


@pytest.mark.parametrize(("family", "task"), CASES)
def test_compiled_path_equals_the_pipeline(family: str, task: str) -> None:
    model = LoadedModel("m", 1, mixed_bundle(family, task), background=FRAME.head(50))
    assert model.predictor.kind == "compiled", model.predictor.note
    records = _records(60, seed=1)
    _assert_same(model, records)
    for record in records[:5]:  # one record at a time: the single-row (fast) path
        _assert_same(model, [record])


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_lightgbm_with_categories_as_codes_compiles(task: str) -> None:
    bundle = mixed_bundle("lightgbm", task, {"categories": "codes"})
    encoded = bundle.pipeline[:-1].transform(FRAME[bundle.contract.feature_names])
    assert not any(isinstance(t, pd.CategoricalDtype) for t in encoded.dtypes)
    model = LoadedModel("m", 1, bundle, background=FRAME.head(50))
    assert model.predictor.kind == "compiled", model.predictor.note
    _assert_same(model, _records(60, seed=2))
    _assert_same(model, _records(1, seed=3))


def test_calibrated_and_blended_models_compile() -> None:
    for bundle in wrapped_bundles():
        model = LoadedModel("m", 1, bundle)
        assert model.predictor.kind == "compiled", model.predictor.note
        _assert_same(model, _records(30, seed=2))


def _strip(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.apply(lambda column: column.str.strip())


def test_an_unknown_step_falls_back_to_the_pipeline_and_says_which(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bundle = mixed_bundle("linear", "binary")
    preprocess = bundle.pipeline.named_steps["preprocess"]
    categorical = preprocess.named_transformers_["categorical"]
    columns = list(categorical.feature_names_in_)
    strip = FunctionTransformer(_strip, feature_names_out="one-to-one")
    categorical.steps.insert(1, ("strip", strip.fit(FRAME[columns].astype(str))))
    with caplog.at_level(logging.WARNING):
        model = LoadedModel("odd", 1, bundle)
    assert model.predictor.kind == "pipeline"
    assert "'strip'" in model.predictor.note
    assert "odd:1" in caplog.text and "'strip'" in caplog.text
    scored = score(model, Payload(_records(3, seed=3), is_batch=True))
    assert len(scored.body["predictions"]) == 3


class _Skewed(Pipeline):
    """A pipeline whose probabilities the compiler reproduces, shifted by 1e-6 (a silent skew)."""

    def predict_proba(self, X: Any, **params: Any) -> np.ndarray:
        proba = super().predict_proba(X, **params)
        return np.clip(proba + np.array([1e-6, -1e-6]), 0, 1)


def test_outputs_that_differ_from_the_pipeline_fall_back() -> None:
    bundle = mixed_bundle("lightgbm", "binary")
    bundle.pipeline = _Skewed(bundle.pipeline.steps)
    model = LoadedModel("skewed", 1, bundle)
    assert model.predictor.kind == "pipeline"
    assert "differs" in model.predictor.note


@pytest.mark.parametrize("family", ["linear", "lightgbm", "random_forest"])
def test_selection_pca_and_target_encoding_compile(family: str) -> None:
    from loopml.features import FeaturePlan, feature_steps

    bundle = mixed_bundle(family, "binary")
    plan = FeaturePlan(
        target_encoded=("color",), target_type="binary", selection="filter", max_features=5, pca=3
    )
    steps = feature_steps(bundle.contract, family, plan)
    bundle.pipeline = Pipeline([*steps, ("model", bundle.pipeline.steps[-1][1])])
    classes = bundle.classes
    target = FRAME["label"].map({c: i for i, c in enumerate(classes)}).to_numpy()
    bundle.pipeline.fit(FRAME[bundle.contract.feature_names], target)
    model = LoadedModel("m", 1, bundle)
    assert model.predictor.kind == "compiled", model.predictor.note
    _assert_same(model, _records(40, seed=4))


def test_compiled_predictions_over_http_equal_the_pipeline_and_are_logged() -> None:
    import httpx
    from serve_support import RecordingSink, wait_for

    from loopml.serve import StaticResolver, create_app, running_server

    model = LoadedModel("gbm", 2, mixed_bundle("lightgbm", "multiclass"), background=FRAME.head(50))
    sink = RecordingSink()
    records = _records(12, seed=5)
    values = model.schema.validate(records)
    expected = model.bundle.predict_frame(model.schema.frame(values))
    with running_server(create_app(StaticResolver({"gbm": model}), sink)) as url:
        ready = httpx.get(f"{url}/ready").json()
        assert ready["backends"] == {"gbm": {"kind": "compiled"}}
        one = httpx.post(f"{url}/v1/models/gbm/predict", json=records[0]).json()
        many = httpx.post(f"{url}/v1/models/gbm/predict", json=records).json()["predictions"]
        assert one["prediction"] == expected["prediction"][0]
        assert [p["prediction"] for p in many] == expected["prediction"].tolist()
        for column in ("probability_low", "probability_mid", "probability_high"):
            got = [p[column] for p in many]
            np.testing.assert_allclose(got, expected[column], rtol=0, atol=TOLERANCE)
        assert "warnings" in many[3]  # the unseen colour is flagged, and still scored
        wait_for(lambda: len(sink.records) == 13)
    logged = {r.request_id: r for r in sink.records}
    assert logged[one["request_id"]].outputs["prediction"] == one["prediction"]


@pytest.mark.parametrize(
    "forest",
    [
        RandomForestClassifier(n_estimators=25, random_state=0),
        ExtraTreesClassifier(n_estimators=25, random_state=0),
        RandomForestRegressor(n_estimators=25, random_state=0),
        ExtraTreesRegressor(n_estimators=25, random_state=0),
    ],
    ids=lambda f: type(f).__name__,
)
def test_small_requests_to_forests_go_tree_by_tree_with_sklearns_results(forest: Any) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 5))
    classifier = is_classifier(forest)
    y = np.digitize(X[:, 0] + X[:, 1], [-0.5, 0.5]) if classifier else X[:, 0] * X[:, 2]
    forest.fit(X, y)
    predict = _forest_trees(forest, classifier)
    assert predict is not None
    rows = rng.normal(size=(7, 5))
    expected = forest.predict_proba(rows) if classifier else forest.predict(rows)
    np.testing.assert_array_equal(predict(rows), expected)  # the same sums in the same order
    rows[3, 2] = np.inf  # sklearn refuses it: such rows go to sklearn, which says so
    assert predict(rows) is None
    assert _forest_trees(Pipeline([("m", forest)]), classifier) is None
