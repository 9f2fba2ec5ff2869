"""The charter's feature engineering in training: derived features travel with the model (the
HTTP server computes them too), high-cardinality target encoding, selection recorded per
original column, PCA for the scaled families, and self-training on unlabelled rows."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import PCA
from sklearn.preprocessing import TargetEncoder
from train_support import contract_for, signal_frame

from loopml.charter._model import FeaturesSpec
from loopml.features import FeatureSelector
from loopml.serve import LoadedModel, StaticResolver, create_app, running_server
from loopml.serve._interfaces import PredictionSink
from loopml.train import train_candidates

FAST: dict[str, Any] = {"time_budget": 60.0, "cv_folds": 3, "tune": False}


def _spec(**fields: object) -> FeaturesSpec:
    return FeaturesSpec.model_validate(fields)


def _ratio_frame(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """The label depends on log(spend * visits): a curved boundary in the raw columns."""
    rng = np.random.default_rng(seed)
    spend = rng.gamma(2.0, 50.0, n)
    visits = rng.integers(1, 30, n).astype(float)
    score = np.log(spend * visits) + rng.normal(scale=0.3, size=n)
    label = np.where(score > np.median(score), "high", "low")
    return pd.DataFrame({"spend": spend, "visits": visits, "label": label})


class _NoSink(PredictionSink):
    def submit(self, records: object) -> None:
        pass

    def close(self) -> None:
        pass


def test_derived_features_help_and_are_computed_by_the_served_model() -> None:
    frame = _ratio_frame()
    contract = contract_for(frame, "label")
    plain = train_candidates(frame, contract, task="binary", families=["linear"], **FAST)
    spec = _spec(derived=[{"name": "log_product", "expr": "log(spend * visits)"}])
    derived = train_candidates(
        frame, contract, task="binary", families=["linear"], features=spec, **FAST
    )
    linear = derived.candidate("linear")
    assert linear.cv_mean > plain.candidate("linear").cv_mean + 0.02
    assert derived.features["derived"] == {"log_product": "log(spend * visits)"}
    bundle = linear.bundle
    assert bundle is not None and bundle.pipeline.steps[0][0] == "derive"
    rows = _ratio_frame(5, seed=1).drop(columns="label")
    expected = bundle.predict_frame(rows)
    app = create_app(StaticResolver({"shop": LoadedModel("shop", 1, bundle)}), _NoSink())
    with running_server(app) as url, httpx.Client(base_url=url, timeout=10.0) as client:
        response = client.post("/v1/models/shop/predict", json=rows.to_dict(orient="records"))
    assert response.status_code == 200, response.text
    served = response.json()["predictions"]
    assert [p["prediction"] for p in served] == list(expected["prediction"])
    np.testing.assert_allclose(
        [p["probability_high"] for p in served], expected["probability_high"], rtol=1e-9
    )


def _city_frame(n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(2)
    city = rng.integers(0, 80, n)
    effect = np.where(city % 2 == 0, 1.5, -1.5)
    x = rng.normal(size=n)
    label = np.where(x + effect + rng.normal(scale=0.5, size=n) > 0, "yes", "no")
    return pd.DataFrame({"x": x, "city": [f"c{c}" for c in city], "label": label})


def test_high_cardinality_columns_are_target_encoded_unless_ordinal_is_asked() -> None:
    frame = _city_frame()
    contract = contract_for(frame, "label")
    target = train_candidates(frame, contract, task="binary", families=["linear"], **FAST)
    ordinal = train_candidates(
        frame,
        contract,
        task="binary",
        families=["linear"],
        features=_spec(high_cardinality="ordinal"),
        **FAST,
    )
    assert target.features["target_encoded"] == ["city"]
    assert ordinal.features["target_encoded"] == []
    preprocess = target.best.bundle.pipeline.named_steps["preprocess"]  # type: ignore[union-attr]
    encoder = preprocess.named_transformers_["high_cardinality"].named_steps["encode"]
    assert isinstance(encoder, TargetEncoder) and encoder.target_type_ == "binary"
    assert (
        "high_cardinality"
        not in ordinal.best.bundle.pipeline.named_steps[  # type: ignore[union-attr]
            "preprocess"
        ].named_transformers_
    )
    # The parity of 80 cities is learnable from the city's mean target, not from 30 one-hots.
    assert target.best.cv_mean > ordinal.best.cv_mean + 0.02
    assert any("Target-encoded 1 high-cardinality column(s) (city)" in w for w in target.warnings)


def _selection_frame(n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    x = rng.normal(size=n)
    frame = pd.DataFrame(
        {
            "x": x,
            "x_copy": 2 * x + rng.normal(scale=1e-3, size=n),
            "flat": np.full(n, 3.0) + rng.normal(scale=1e-4, size=n),
            "noise_a": rng.normal(size=n),
            "noise_b": rng.normal(size=n),
            "group": rng.choice(["a", "b"], n),
        }
    )
    frame["label"] = np.where(x + rng.normal(scale=0.3, size=n) > 0, "yes", "no")
    return frame


@pytest.mark.parametrize("family", ["linear", "lightgbm"])
def test_filter_selection_drops_flat_correlated_and_uninformative_columns(family: str) -> None:
    frame = _selection_frame()
    spec = _spec(selection={"method": "filter", "variance_threshold": 1e-6, "max_features": 2})
    result = train_candidates(
        frame, contract_for(frame, "label"), task="binary", families=[family], features=spec, **FAST
    )
    candidate = result.candidate(family)
    dropped = {d["column"]: d for d in candidate.features["dropped"]}
    assert dropped["flat"]["reason"] == "variance at most the threshold"
    assert dropped["x_copy"]["reason"] == "correlated with 'x' above 0.95"
    assert dropped["x_copy"]["score"] > 0.99
    assert "x" not in dropped and len(frame.columns) - 1 - len(dropped) == 2
    assert {d["reason"] for c, d in dropped.items() if c not in ("flat", "x_copy")} == {
        "low mutual information with the target"
    }
    assert result.best.bundle.metadata["feature_selection"] == candidate.features["dropped"]  # type: ignore[union-attr]
    assert candidate.cv_mean > 0.9


@pytest.mark.parametrize("method", ["embedded", "rfe"])
def test_model_based_selection_keeps_the_signal(method: str) -> None:
    frame = _selection_frame().drop(columns=["x_copy"])
    spec = _spec(selection={"method": method, "max_features": 2})
    result = train_candidates(
        frame,
        contract_for(frame, "label"),
        task="binary",
        families=["linear"],
        features=spec,
        **FAST,
    )
    dropped = {d["column"] for d in result.best.features["dropped"]}
    assert "x" not in dropped and {"noise_a", "noise_b"} <= dropped
    selector = result.best.bundle.pipeline.named_steps["select"]  # type: ignore[union-attr]
    assert isinstance(selector, FeatureSelector)
    kept = selector.get_feature_names_out()
    assert any(name.endswith("__x") for name in kept)


def test_pca_reduces_scaled_families_only() -> None:
    frame = _selection_frame()
    result = train_candidates(
        frame,
        contract_for(frame, "label"),
        task="binary",
        families=["linear", "random_forest"],
        features=_spec(pca=0.9),
        **FAST,
    )
    linear = result.candidate("linear")
    assert isinstance(linear.bundle.pipeline.named_steps["pca"], PCA)  # type: ignore[union-attr]
    assert linear.features["pca"]["explained_variance"] >= 0.9
    assert linear.features["pca"]["components"] < 7
    assert "pca" not in result.candidate("random_forest").bundle.pipeline.named_steps  # type: ignore[union-attr]


def test_self_training_keeps_unlabelled_rows_and_reports_pseudo_labels() -> None:
    frame = signal_frame(300)
    frame.loc[frame.index[::2], "label"] = None
    contract = contract_for(frame, "label")
    supervised = train_candidates(frame, contract, task="binary", families=["linear"], **FAST)
    assert supervised.dropped_target_rows == 150 and supervised.pseudo_labels is None
    result = train_candidates(
        frame, contract, task="binary", families=["linear"], self_training=True, **FAST
    )
    assert result.unlabelled_rows == 150 and result.dropped_target_rows == 0
    assert result.n_train_rows == 150  # scores are computed on labelled rows only
    candidate = result.candidate("self_training")
    assert candidate.ok and candidate.params["base"] == "linear"
    assert 0 < candidate.params["pseudo_labels"] == result.pseudo_labels <= 150
    assert len(candidate.fold_scores) == 3
    assert result.best in (candidate, result.candidate("linear"))
    bundle = candidate.bundle
    assert bundle is not None
    assert bundle.metadata["self_training"]["pseudo_labels"] == result.pseudo_labels
    probabilities = bundle.predict_frame(frame.head(4))["probability_yes"]
    assert probabilities.between(0, 1).all()
    assert any("pseudo-label" in w for w in result.warnings)


def test_self_training_is_ignored_for_regression_with_a_note() -> None:
    frame = signal_frame(120).assign(label=lambda f: f["x"] * 2.0)
    frame.loc[frame.index[:20], "label"] = None
    result = train_candidates(
        frame,
        contract_for(frame, "label"),
        task="regression",
        families=["linear"],
        self_training=True,
        **FAST,
    )
    assert result.dropped_target_rows == 20 and result.unlabelled_rows == 0
    assert any("Self-training applies to classification only" in w for w in result.warnings)
