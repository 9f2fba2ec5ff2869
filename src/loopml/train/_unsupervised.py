"""Tasks beyond supervised learning: clustering and anomaly detection.

:func:`train_clusters` fits k-means and a Gaussian mixture for each k in ``2..max_clusters`` and
DBSCAN (``eps`` from the k-distance knee), and keeps the candidate with the best silhouette
(Davies-Bouldin breaks near-ties); the result carries per-cluster profiles. :func:`train_anomaly`
fits an isolation forest and a local outlier factor with the charter's contamination; with no
labels there is no score to choose by, so the isolation forest (robust, scales linearly) is the
model unless ``method`` names LOF. Both return a :class:`~loopml.train.ModelBundle` whose
``predict_frame`` gives ``prediction`` (cluster id, -1 noise / 1 anomaly) and ``score``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.cluster import DBSCAN, KMeans
from sklearn.ensemble import IsolationForest
from sklearn.metrics import davies_bouldin_score, silhouette_score
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors

from loopml.data._contract import DataContract
from loopml.errors import DataError, InvalidInputError
from loopml.features import build_preprocessor
from loopml.train._bundle import ModelBundle
from loopml.train._unsupervised_models import AnomalyModel, ClusterModel

SCORE_SAMPLE = 5_000
"""Silhouette is quadratic in rows: it is computed on at most this many."""


@dataclass
class UnsupervisedResult:
    """The chosen model, every candidate's scores, and (clustering) the cluster profiles."""

    task: Literal["clustering", "anomaly"]
    bundle: ModelBundle
    method: str
    candidates: list[dict[str, Any]] = field(default_factory=list)
    profiles: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _inputs(frame: pd.DataFrame, contract: DataContract, family: str) -> tuple[Any, np.ndarray]:
    missing = [c for c in contract.feature_names if c not in frame.columns]
    if missing:
        raise DataError(
            f"The data is missing {len(missing)} feature column(s): {', '.join(missing)}."
        )
    if len(frame) < 10:
        raise DataError(f"{len(frame)} rows are too few to find structure; give at least 10.")
    preprocess = build_preprocessor(contract, family).fit(frame[contract.feature_names])
    Z = preprocess.transform(frame[contract.feature_names])
    return preprocess, np.asarray(Z.toarray() if hasattr(Z, "toarray") else Z, dtype=float)


def train_clusters(
    frame: pd.DataFrame, contract: DataContract, *, max_clusters: int = 8, seed: int = 0
) -> UnsupervisedResult:
    """Cluster ``frame``'s feature columns; pick the method and k by silhouette.

    Raises:
        InvalidInputError: ``max_clusters`` below 2.
        DataError: missing feature columns, fewer than 10 rows, or no structure (one point).
    """
    if max_clusters < 2:
        raise InvalidInputError(f"max_clusters must be at least 2; got {max_clusters}.")
    preprocess, Z = _inputs(frame, contract, "kmeans")
    rng = np.random.default_rng(seed)
    sample = rng.choice(len(Z), size=min(len(Z), SCORE_SAMPLE), replace=False)
    candidates: list[tuple[str, Any, np.ndarray]] = []
    for k in range(2, min(max_clusters, len(Z) - 1) + 1):
        kmeans = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(Z)
        candidates.append((f"kmeans(k={k})", kmeans, kmeans.labels_))
        mixture = GaussianMixture(k, covariance_type="diag", random_state=seed).fit(Z)
        candidates.append((f"gaussian_mixture(k={k})", mixture, mixture.predict(Z)))
    distances = NearestNeighbors(n_neighbors=5).fit(Z).kneighbors(Z)[0][:, -1]
    dbscan = DBSCAN(eps=float(np.quantile(distances, 0.9)) or 1e-6, min_samples=5).fit(Z)
    candidates.append(("dbscan", dbscan, dbscan.labels_))
    rows: list[dict[str, Any]] = []
    ranking: list[tuple[float, float]] = []
    for name, _model, labels in candidates:
        found = len(set(labels[sample]) - {-1})
        ok = 2 <= found < len(sample)
        silhouette = float(silhouette_score(Z[sample], labels[sample])) if ok else -1.0
        bouldin = float(davies_bouldin_score(Z[sample], labels[sample])) if ok else np.inf
        rows.append(
            {
                "method": name,
                "clusters": found,
                "silhouette": silhouette,
                "davies_bouldin": bouldin,
                "noise_share": float(np.mean(labels == -1)),
            }
        )
        ranking.append((round(silhouette, 3), -bouldin))
    best = max(range(len(rows)), key=lambda i: ranking[i])
    name, model, labels = candidates[best]
    fitted = ClusterModel(preprocess, model)
    fitted._after_fit(Z)
    bundle = ModelBundle(
        fitted,
        contract,
        "clustering",
        family=name.split("(")[0],
        metadata={"method": name, **rows[best], "seed": seed},
    )
    return UnsupervisedResult(
        "clustering", bundle, name, rows, cluster_profiles(frame, contract, labels)
    )


def cluster_profiles(
    frame: pd.DataFrame, contract: DataContract, labels: np.ndarray
) -> list[dict[str, Any]]:
    """Per cluster: size, share, numeric means and the most common value of other columns."""
    profiles = []
    features = frame[contract.feature_names].reset_index(drop=True)
    for cluster in sorted(set(labels.tolist())):
        part = features[labels == cluster]
        summary: dict[str, Any] = {}
        for column in features.columns:
            values = part[column]
            if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
                summary[column] = None if values.isna().all() else float(values.mean())
            else:
                mode = values.mode(dropna=True)
                summary[column] = None if mode.empty else str(mode.iloc[0])
        profiles.append(
            {
                "cluster": int(cluster),
                "size": len(part),
                "share": len(part) / len(features),
                "profile": summary,
            }
        )
    return profiles


def train_anomaly(
    frame: pd.DataFrame,
    contract: DataContract,
    *,
    contamination: float | Literal["auto"] = "auto",
    method: Literal["isolation_forest", "lof"] = "isolation_forest",
    seed: int = 0,
) -> UnsupervisedResult:
    """Fit an anomaly detector flagging about ``contamination`` of the rows.

    Raises:
        InvalidInputError: ``contamination`` outside (0, 0.5] or an unknown ``method``.
        DataError: missing feature columns or fewer than 10 rows.
    """
    if contamination != "auto" and not 0 < float(contamination) <= 0.5:
        raise InvalidInputError(
            f"contamination must be in (0, 0.5] or 'auto'; got {contamination}."
        )
    if method not in ("isolation_forest", "lof"):
        raise InvalidInputError(
            f"Unknown anomaly method {method!r}.", hint="Use isolation_forest or lof."
        )
    preprocess, Z = _inputs(frame, contract, method)
    models = {
        "isolation_forest": IsolationForest(contamination=contamination, random_state=seed),
        "lof": LocalOutlierFactor(
            n_neighbors=min(20, len(Z) - 1), contamination=contamination, novelty=True
        ),
    }
    rows = []
    for name, model in models.items():
        model.fit(Z)
        flagged = float(np.mean(model.predict(Z) == -1))
        rows.append({"method": name, "flagged_share": flagged, "threshold": float(-model.offset_)})
    fitted = AnomalyModel(preprocess, models[method])
    chosen = next(r for r in rows if r["method"] == method)
    bundle = ModelBundle(
        fitted,
        contract,
        "anomaly",
        family=method,
        metadata={**chosen, "contamination": contamination, "seed": seed},
    )
    return UnsupervisedResult("anomaly", bundle, method, rows)
