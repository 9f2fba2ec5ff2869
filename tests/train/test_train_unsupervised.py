"""Clustering and anomaly detection: method and k chosen, profiles, bundles that serve."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from train_support import contract_for

from loopml.data import DataContract
from loopml.errors import DataError, InvalidInputError
from loopml.train import train_anomaly, train_clusters


def blobs(n: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [6.0, 6.0], [0.0, 8.0]])
    which = rng.integers(0, 3, n)
    xy = centres[which] + rng.normal(scale=0.6, size=(n, 2))
    return pd.DataFrame({"a": xy[:, 0], "b": xy[:, 1], "shop": np.where(which == 1, "x", "y")})


def unsupervised_contract(frame: pd.DataFrame) -> DataContract:
    contract = contract_for(frame.assign(_t=0), "_t")
    return DataContract(columns=[c for c in contract.columns if c.name != "_t"])


def test_clustering_finds_the_blobs_and_profiles_them() -> None:
    frame = blobs()
    result = train_clusters(frame, unsupervised_contract(frame), max_clusters=6)
    assert result.bundle.metadata["clusters"] == 3
    assert result.bundle.metadata["silhouette"] > 0.6
    assert {r["method"] for r in result.candidates} >= {"kmeans(k=3)", "dbscan"}
    assert sum(p["size"] for p in result.profiles) == len(frame)
    assert {"a", "b", "shop"} <= set(result.profiles[0]["profile"])
    out = result.bundle.predict_frame(frame)
    assert list(out.columns) == ["prediction", "score"] == result.bundle.output_columns
    restored = pickle.loads(pickle.dumps(result.bundle))
    pd.testing.assert_frame_equal(restored.predict_frame(frame), out)


def test_anomaly_detection_flags_the_outliers() -> None:
    frame = blobs(400)
    outliers = pd.DataFrame({"a": [30.0, -25.0, 40.0], "b": [-30.0, 25.0, 40.0], "shop": "y"})
    for method in ("isolation_forest", "lof"):
        result = train_anomaly(
            frame, unsupervised_contract(frame), contamination=0.02, method=method
        )
        assert result.bundle.predict_frame(outliers)["prediction"].tolist() == [1, 1, 1]
        scored = result.bundle.predict_frame(frame)
        assert scored["prediction"].mean() == pytest.approx(0.02, abs=0.02)
        assert scored["score"].max() < result.bundle.predict_frame(outliers)["score"].min()
        assert {r["method"] for r in result.candidates} == {"isolation_forest", "lof"}


def test_unsupervised_bad_inputs() -> None:
    frame = blobs()
    contract = unsupervised_contract(frame)
    with pytest.raises(InvalidInputError, match="max_clusters must be at least 2"):
        train_clusters(frame, contract, max_clusters=1)
    with pytest.raises(InvalidInputError, match="contamination must be in"):
        train_anomaly(frame, contract, contamination=0.9)
    with pytest.raises(DataError, match="too few"):
        train_clusters(frame.head(5), contract)
    with pytest.raises(DataError, match="missing 1 feature column"):
        train_anomaly(frame.drop(columns="shop"), contract)
