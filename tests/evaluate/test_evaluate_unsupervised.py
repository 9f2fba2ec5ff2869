"""Clustering and anomaly evaluation: metrics equal scikit-learn's, intervals, summaries, HTML."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import load_iris, load_wine
from sklearn.metrics import (
    average_precision_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    roc_auc_score,
    silhouette_score,
)

from loopml.data import infer_contract
from loopml.errors import DataError, InvalidInputError
from loopml.evaluate import EvaluationReport, ModelCard, evaluate_model
from loopml.evaluate._bootstrap import resampled_intervals
from loopml.evaluate._unsupervised import anomaly_labels, anomaly_metrics
from loopml.train import ModelBundle, train_anomaly, train_clusters
from loopml.train._unsupervised_models import ClusterModel


@pytest.fixture(scope="module")
def wine() -> pd.DataFrame:
    return load_wine(as_frame=True).frame.drop(columns="target")


@pytest.fixture(scope="module")
def clusters(wine: pd.DataFrame) -> ModelBundle:
    return train_clusters(wine, infer_contract(wine, target=None), max_clusters=4).bundle


def test_clustering_metrics_equal_scikit_learn(clusters: ModelBundle, wine: pd.DataFrame) -> None:
    report = evaluate_model(clusters, wine, model_ref="wine:1")
    Z = clusters.pipeline.transform(wine)
    labels = clusters.predict_frame(wine)["prediction"].to_numpy()
    assert report.metrics["silhouette"] == pytest.approx(silhouette_score(Z, labels))
    assert report.metrics["davies_bouldin"] == pytest.approx(davies_bouldin_score(Z, labels))
    assert report.metrics["calinski_harabasz"] == pytest.approx(calinski_harabasz_score(Z, labels))
    for name, (low, high) in report.intervals.items():
        assert low <= report.metrics[name] <= high, name
    details = report.unsupervised
    assert details["silhouette_sample"] == len(wine)
    assert [s["count"] for s in details["sizes"]] == np.bincount(labels).tolist()
    assert details["projection"]["n_points"] == len(wine)


def test_cluster_profiles_compare_with_the_whole_data(
    clusters: ModelBundle, wine: pd.DataFrame
) -> None:
    report = evaluate_model(clusters, wine, model_ref="wine:1", intervals=False)
    labels = clusters.predict_frame(wine)["prediction"].to_numpy()
    rows = [r for r in report.unsupervised["profiles"]["numeric"] if r["column"] == "alcohol"]
    for row in rows:
        mean = wine["alcohol"][labels == row["cluster"]].mean()
        assert row["mean"] == pytest.approx(mean)
        assert row["z"] == pytest.approx(
            (mean - wine["alcohol"].mean()) / wine["alcohol"].std(ddof=0)
        )


def test_silhouette_is_sampled_with_a_stated_size(monkeypatch: pytest.MonkeyPatch) -> None:
    import loopml.evaluate._unsupervised as module

    iris = load_iris(as_frame=True).frame.drop(columns="target")
    bundle = train_clusters(iris, infer_contract(iris, target=None), max_clusters=3).bundle
    monkeypatch.setattr(module, "SILHOUETTE_SAMPLE", 60)
    report = evaluate_model(bundle, iris, model_ref="iris:1", intervals=False)
    assert report.unsupervised["silhouette_sample"] == 60
    assert "silhouette" in report.metrics and "davies_bouldin" in report.metrics


def test_categorical_profile_and_dbscan_noise_left_out() -> None:
    rng = np.random.default_rng(0)
    centres = np.repeat([[0.0, 0.0], [8.0, 8.0]], 60, axis=0)
    frame = pd.DataFrame(centres + rng.normal(scale=0.5, size=centres.shape), columns=["a", "b"])
    frame["colour"] = np.where(frame["a"] > 4, "red", "blue")
    contract = infer_contract(frame, target=None)
    result = train_clusters(frame, contract, max_clusters=3)
    labels = result.bundle.predict_frame(frame)["prediction"].to_numpy()
    report = evaluate_model(result.bundle, frame, model_ref="blobs:1", intervals=False)
    kept = labels != -1
    Z = result.bundle.pipeline.transform(frame)
    assert report.metrics["silhouette"] == pytest.approx(silhouette_score(Z[kept], labels[kept]))
    tops = {r["top"] for r in report.unsupervised["profiles"]["categorical"]}
    assert tops == {"red", "blue"}


def test_anomaly_metrics_with_labels_equal_scikit_learn() -> None:
    rng = np.random.default_rng(1)
    normal = pd.DataFrame(rng.normal(size=(300, 4)), columns=list("abcd"))
    odd = pd.DataFrame(rng.normal(loc=6, size=(15, 4)), columns=list("abcd"))
    frame = pd.concat([normal.assign(fraud=0), odd.assign(fraud=1)], ignore_index=True)
    contract = infer_contract(frame, target="fraud")
    bundle = train_anomaly(frame, contract, contamination=0.05).bundle
    report = evaluate_model(bundle, frame, model_ref="fraud:1")
    scored = bundle.predict_frame(frame)
    known, score = frame["fraud"].to_numpy() == 1, scored["score"].to_numpy()
    assert report.metrics["roc_auc"] == pytest.approx(roc_auc_score(known, score))
    assert report.metrics["pr_auc"] == pytest.approx(average_precision_score(known, score))
    k = report.unsupervised["k"]
    assert k == int(scored["prediction"].sum())
    assert report.metrics["precision_at_k"] > 0.9 > known.mean()
    assert report.unsupervised["threshold"] == pytest.approx(-bundle.pipeline.model.offset_)
    assert (score[scored["prediction"] == 1] > report.unsupervised["threshold"]).all()


def test_anomaly_without_labels_reports_only_the_flagged_share() -> None:
    frame = pd.DataFrame(np.random.default_rng(2).normal(size=(200, 3)), columns=list("xyz"))
    bundle = train_anomaly(frame, infer_contract(frame, target=None), contamination=0.1).bundle
    report = evaluate_model(bundle, frame, model_ref="m:1")
    assert set(report.metrics) == {"flagged_share"}
    assert report.metrics["flagged_share"] == pytest.approx(0.1, abs=0.03)
    card = ModelCard(report=report).to_markdown()
    assert "detection quality is not measured" in card
    assert "Not computed for anomaly models." in card  # fairness and slices
    assert 'id="fig-anomaly-scores"' in report.to_html()


def test_precision_at_k_uses_the_flagged_count() -> None:
    flagged = np.array([1, 1, 0, 0, 0, 0], dtype=bool)
    score = np.array([0.9, 0.8, 0.7, 0.1, 0.2, 0.3])
    known = np.array([1, 0, 1, 0, 0, 0], dtype=bool)
    metrics = anomaly_metrics(flagged, score, known)
    assert metrics["precision_at_k"] == 0.5 and metrics["recall_at_k"] == 0.5
    none_flagged = anomaly_metrics(np.zeros(6, dtype=bool), score, known)
    assert none_flagged["precision_at_k"] == 0.5  # k falls back to the 2 known anomalies


def test_anomaly_labels_accept_marks_and_reject_other_values() -> None:
    marks = pd.Series(["Yes", "no", "anomaly", "normal", 1, 0.0], name="label")
    assert anomaly_labels(marks).tolist() == [True, False, True, False, True, False]
    with pytest.raises(InvalidInputError, match="must mark known anomalies"):
        anomaly_labels(pd.Series(["cat", "dog"], name="label"))


def test_report_round_trips_through_json(clusters: ModelBundle, wine: pd.DataFrame) -> None:
    report = evaluate_model(clusters, wine, model_ref="wine:1", intervals=False)
    again = EvaluationReport.from_dict(report.to_dict())
    assert again.unsupervised == report.to_dict()["unsupervised"]
    html = again.to_html()
    assert 'id="fig-cluster-profiles"' in html and "Cluster sizes" in html


def test_bad_input_is_a_clear_error(clusters: ModelBundle, wine: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="too few"):
        evaluate_model(clusters, wine.head(1), model_ref="wine:1")
    with pytest.raises(DataError, match="missing 1 column"):
        evaluate_model(clusters, wine.drop(columns="alcohol"), model_ref="wine:1")
    with pytest.raises(DataError, match="too few to find structure"):
        train_clusters(wine.head(5), infer_contract(wine, target=None))


def test_resampled_intervals_drop_mostly_undefined_statistics() -> None:
    values = np.arange(100, dtype=float)
    ci = resampled_intervals(
        lambda rows: {"mean": values[rows].mean(), "never": float("nan")}, 100, seed=0
    )
    assert set(ci) == {"mean"} and ci["mean"][0] < 49.5 < ci["mean"][1]


def test_kmeans_bundle_outside_training_is_evaluated_the_same_way(wine: pd.DataFrame) -> None:
    contract = infer_contract(wine, target=None)
    fitted = train_clusters(wine, contract, max_clusters=2).bundle.pipeline
    model = ClusterModel(fitted.preprocess, KMeans(3, n_init=2, random_state=0)).fit(wine)
    bundle = ModelBundle(model, contract, "clustering", family="kmeans")
    report = evaluate_model(bundle, wine, model_ref="wine:2", intervals=False)
    assert len(report.unsupervised["sizes"]) == 3


def test_fast_metric_kernels_equal_scikit_learn_with_ties() -> None:
    from loopml.evaluate._unsupervised import _cluster_metrics

    rng = np.random.default_rng(3)
    for _ in range(20):
        Z, labels = rng.normal(size=(80, 3)), rng.integers(0, 4, size=80)
        got = _cluster_metrics(Z, labels, None)
        assert got["davies_bouldin"] == pytest.approx(davies_bouldin_score(Z, labels))
        assert got["calinski_harabasz"] == pytest.approx(calinski_harabasz_score(Z, labels))
        known, score = rng.random(80) < 0.2, np.round(rng.normal(size=80), 1)
        got = anomaly_metrics(np.zeros(80, dtype=bool), score, known)
        assert got["roc_auc"] == pytest.approx(roc_auc_score(known, score))
        assert got["pr_auc"] == pytest.approx(average_precision_score(known, score))
