"""Evaluation of clustering and anomaly models: metrics with bootstrap intervals and summaries.

Clustering, measured in the model's preprocessed feature space (where the clusters were found),
leaving DBSCAN's noise rows (-1) out: ``silhouette`` (on a random sample of at most
:data:`SILHOUETTE_SAMPLE` rows, the sample size is stated), ``davies_bouldin`` (lower is better)
and ``calinski_harabasz``, with the silhouette of the same cluster sizes assigned at random as
the chance ``baseline``; the cluster sizes, per-cluster profiles against the whole data and a
2-D PCA projection of a sample. Anomaly: ``flagged_share`` and the score distribution; when the
contract's target holds known anomalies, ``precision_at_k`` and ``recall_at_k`` with ``k`` the
number of flagged rows (the number of known anomalies when nothing is flagged) — the rows an
analyst would review; the prevalence, the precision of flagging at random, is the ``baseline``
— and ``roc_auc``/``pr_auc`` of the score. Every metric gets a 95 %
bootstrap interval (200 replicates of at most :data:`BOOTSTRAP_ROWS` rows).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sklearn.decomposition import PCA
from sklearn.metrics import silhouette_samples

from loopml.errors import DataError, InvalidInputError
from loopml.evaluate._bootstrap import resampled_intervals
from loopml.evaluate._gates import GateResult
from loopml.train._bundle import ModelBundle

if TYPE_CHECKING:
    from loopml.evaluate._report import EvaluationReport

SILHOUETTE_SAMPLE = 5_000
"""Silhouette is quadratic in rows: it is measured on a random sample of at most this many."""
BOOTSTRAP_ROWS = 5_000
"""Bootstrap replicates resample a random sample of at most this many rows."""
SCATTER_POINTS = 1_000
"""Points of the 2-D PCA projection embedded in the report."""
HISTOGRAM_BINS = 40

UNSUPERVISED_GREATER_IS_BETTER: dict[str, bool | None] = {
    "silhouette": True,
    "davies_bouldin": False,
    "calinski_harabasz": True,
    "precision_at_k": True,
    "recall_at_k": True,
    "roc_auc": True,
    "pr_auc": True,
    "flagged_share": None,
    "noise_share": None,
}
"""Direction of each clustering/anomaly metric (``None``: a share, neither better nor worse)."""

_ANOMALY_WORDS = {
    "1": True,
    "true": True,
    "yes": True,
    "anomaly": True,
    "outlier": True,
    "0": False,
    "false": False,
    "no": False,
    "normal": False,
    "inlier": False,
}


def primary_metric(task: str, *, labelled: bool) -> str | None:
    """The metric gates and model choice use: ``silhouette`` for clustering, ``precision_at_k``
    for anomaly detection when known anomalies are labelled, else none (no quality gate)."""
    if task == "clustering":
        return "silhouette"
    if task == "anomaly" and labelled:
        return "precision_at_k"
    return None


def anomaly_labels(values: pd.Series) -> np.ndarray:
    """Known anomalies as a boolean array: booleans, 0/1, or yes/no, true/false,
    anomaly/normal, outlier/inlier (any case).

    Raises:
        InvalidInputError: another value is present (the message lists a few).
    """
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.to_numpy(dtype=bool)
    text = values.map(lambda v: str(int(v)) if isinstance(v, float | int) else str(v))
    text = text.str.strip().str.lower()
    unknown = sorted(set(text) - set(_ANOMALY_WORDS))
    if unknown:
        raise InvalidInputError(
            f"The target {values.name!r} of an anomaly model must mark known anomalies; it holds "
            f"{', '.join(map(repr, unknown[:5]))}.",
            hint="Use 1/0, true/false, yes/no, anomaly/normal or outlier/inlier.",
        )
    return text.map(_ANOMALY_WORDS).to_numpy(dtype=bool)


def evaluate_unsupervised(
    bundle: ModelBundle,
    frame: pd.DataFrame,
    *,
    model_ref: str,
    dataset_id: str | None = None,
    gates: list[GateResult] | None = None,
    intervals: bool = True,
    seed: int = 0,
) -> EvaluationReport:
    """Evaluate a clustering or anomaly ``bundle`` on ``frame`` (rules in the module docstring).

    Raises:
        DataError: a feature column is missing, or ``frame`` has fewer than 2 rows.
        InvalidInputError: the target of an anomaly model holds values that are not
            anomaly/normal marks.
    """
    from loopml.evaluate._report import EvaluationReport

    if len(frame) < 2:
        raise DataError(f"{len(frame)} row(s) are too few to evaluate a {bundle.task} model.")
    frame = frame.reset_index(drop=True)
    predictions = bundle.predict_frame(frame)
    rng = np.random.default_rng(seed)
    if bundle.task == "clustering":
        metrics, ci, details = _clustering(bundle, frame, predictions, rng, intervals, seed)
    else:
        metrics, ci, details = _anomaly(bundle, frame, predictions, rng, intervals, seed)
    return EvaluationReport(
        model_ref=model_ref,
        task=bundle.task,
        n_rows=len(frame),
        metrics=metrics,
        intervals=ci,
        gates=list(gates or []),
        dataset_id=dataset_id,
        unsupervised=details,
    )


def _sample(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    return np.sort(rng.choice(n, size=size, replace=False)) if n > size else np.arange(n)


Metrics = dict[str, float]
Intervals = dict[str, tuple[float, float]]


def _cluster_metrics(Z: np.ndarray, labels: np.ndarray, silhouettes: np.ndarray | None) -> Metrics:
    """The three cluster-quality metrics (those the rows define: at least 2 clusters).

    Davies-Bouldin and Calinski-Harabasz follow scikit-learn's definitions, computed from the
    centroids directly: they run once per bootstrap replicate, where scikit-learn's input
    checks would cost more than the arithmetic.
    """
    names, codes = np.unique(labels, return_inverse=True)
    k, n = len(names), len(labels)
    if not 2 <= k < n:
        return {}
    counts = np.bincount(codes, minlength=k).astype(float)
    centroids = np.zeros((k, Z.shape[1]))
    np.add.at(centroids, codes, Z)
    centroids /= counts[:, None]
    offsets = Z - centroids[codes]
    within = float(np.sum(offsets**2))
    between = float(np.sum(counts * np.sum((centroids - Z.mean(axis=0)) ** 2, axis=1)))
    spread = np.bincount(codes, weights=np.sqrt(np.sum(offsets**2, axis=1)), minlength=k) / counts
    gaps = np.sqrt(np.sum((centroids[:, None, :] - centroids[None, :, :]) ** 2, axis=2))
    bouldin = 0.0
    if not (np.allclose(spread, 0) or np.allclose(gaps, 0)):
        gaps[gaps == 0] = np.inf
        bouldin = float(np.mean(np.max((spread[:, None] + spread[None, :]) / gaps, axis=1)))
    out = {
        "davies_bouldin": bouldin,
        "calinski_harabasz": 1.0 if within == 0 else between * (n - k) / (within * (k - 1)),
    }
    if silhouettes is not None:
        out["silhouette"] = float(np.mean(silhouettes))
    return out


def _clustering(
    bundle: ModelBundle,
    frame: pd.DataFrame,
    predictions: pd.DataFrame,
    rng: np.random.Generator,
    intervals: bool,
    seed: int,
) -> tuple[Metrics, Intervals, dict[str, Any]]:
    labels = predictions["prediction"].to_numpy(dtype=int)
    Z = bundle.pipeline.transform(bundle.features(frame))
    clustered = np.flatnonzero(labels != -1)
    Zc, Lc = Z[clustered], labels[clustered]
    sample = _sample(len(Zc), SILHOUETTE_SAMPLE, rng)
    silhouettes, baseline = None, None
    if 2 <= len(np.unique(Lc[sample])) < len(sample):
        silhouettes = silhouette_samples(Zc[sample], Lc[sample])
        # Chance level: the same cluster sizes assigned at random.
        baseline = float(silhouette_samples(Zc[sample], rng.permutation(Lc[sample])).mean())
    metrics = _cluster_metrics(Zc, Lc, silhouettes)
    if bundle.family == "dbscan":
        metrics["noise_share"] = float(np.mean(labels == -1))
    ci: Intervals = {}
    if intervals and "davies_bouldin" in metrics:
        boot = _sample(len(Zc), BOOTSTRAP_ROWS, rng)

        def statistic(rows: np.ndarray) -> Metrics:
            return _cluster_metrics(Zc[boot][rows], Lc[boot][rows], None)

        ci = resampled_intervals(statistic, len(boot), seed=seed)
        if silhouettes is not None:
            s = silhouettes
            ci |= resampled_intervals(
                lambda rows: {"silhouette": s[rows].mean()}, len(s), seed=seed
            )
    scatter = _sample(len(Z), SCATTER_POINTS, rng)
    details = {
        "silhouette_sample": len(sample) if silhouettes is not None else 0,
        "baseline": baseline,
        "bootstrap_rows": min(len(Zc), BOOTSTRAP_ROWS),
        "sizes": _sizes(labels),
        "profiles": cluster_profiles(bundle.features(frame), labels),
        "projection": _projection(Z, labels, scatter, seed),
        "method": bundle.metadata.get("method", bundle.family),
    }
    return metrics, ci, details


def _sizes(labels: np.ndarray) -> list[dict[str, Any]]:
    values, counts = np.unique(labels, return_counts=True)
    return [
        {"cluster": int(v), "count": int(c), "share": float(c / len(labels))}
        for v, c in zip(values, counts, strict=True)
    ]


def cluster_profiles(features: pd.DataFrame, labels: np.ndarray) -> dict[str, Any]:
    """Per cluster, each column against the whole data.

    Numeric columns: the cluster mean, the overall mean and the difference in overall standard
    deviations (``z``). Other columns: the cluster's most common value, its share in the cluster
    and in the whole data.
    """
    numeric: list[dict[str, Any]] = []
    categorical: list[dict[str, Any]] = []
    for column in features.columns:
        values = features[column]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            overall, spread = float(values.mean()), float(values.std(ddof=0))
            for cluster in np.unique(labels):
                mean = float(values[labels == cluster].mean())
                z = (mean - overall) / spread if spread > 0 else 0.0
                row = {"cluster": int(cluster), "column": column, "mean": mean}
                numeric.append(row | {"overall": overall, "z": z})
            continue
        text = values.astype("string")
        for cluster in np.unique(labels):
            part = text[labels == cluster].dropna()
            if part.empty:
                continue
            top = str(part.mode().iloc[0])
            categorical.append(
                {
                    "cluster": int(cluster),
                    "column": column,
                    "top": top,
                    "share": float((part == top).mean()),
                    "overall": float((text.dropna() == top).mean()),
                }
            )
    return {"numeric": _finite(numeric), "categorical": categorical}


def _finite(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if all(np.isfinite(r[k]) for k in ("mean", "overall", "z"))]


def _projection(Z: np.ndarray, labels: np.ndarray, rows: np.ndarray, seed: int) -> dict[str, Any]:
    if Z.shape[1] < 2 or len(rows) < 3:
        return {}
    pca = PCA(n_components=2, random_state=seed).fit(Z)
    xy = pca.transform(Z[rows])
    return {
        "x": np.round(xy[:, 0], 4).tolist(),
        "y": np.round(xy[:, 1], 4).tolist(),
        "cluster": labels[rows].tolist(),
        "explained_variance": pca.explained_variance_ratio_.tolist(),
        "n_points": len(rows),
    }


def _anomaly(
    bundle: ModelBundle,
    frame: pd.DataFrame,
    predictions: pd.DataFrame,
    rng: np.random.Generator,
    intervals: bool,
    seed: int,
) -> tuple[Metrics, Intervals, dict[str, Any]]:
    flagged = predictions["prediction"].to_numpy(dtype=int) == 1
    score = predictions["score"].to_numpy(dtype=float)
    target = bundle.contract.target
    known = None
    if target is not None and target in frame.columns and frame[target].notna().any():
        present = frame[target].notna().to_numpy()
        flagged, score = flagged[present], score[present]
        known = anomaly_labels(frame.loc[present, target])
    metrics = anomaly_metrics(flagged, score, known)
    ci: Intervals = {}
    if intervals:
        boot = _sample(len(score), BOOTSTRAP_ROWS, rng)
        f, s = flagged[boot], score[boot]
        y = None if known is None else known[boot]
        ci = resampled_intervals(
            lambda rows: anomaly_metrics(f[rows], s[rows], None if y is None else y[rows]),
            len(boot),
            seed=seed,
        )
    counts, edges = np.histogram(score[np.isfinite(score)], bins=HISTOGRAM_BINS)
    threshold = getattr(bundle.pipeline, "threshold", None)
    details: dict[str, Any] = {
        "flagged": int(flagged.sum()),
        "rows": len(flagged),
        "bootstrap_rows": min(len(score), BOOTSTRAP_ROWS),
        "threshold": None if threshold is None else float(threshold),
        "histogram": {"counts": counts.tolist(), "edges": edges.tolist()},
        "method": bundle.metadata.get("method", bundle.family),
        "labelled": known is not None,
    }
    if known is not None:
        details |= {
            "known_anomalies": int(known.sum()),
            "k": _k(flagged, known),
            "prevalence": float(known.mean()),
            "baseline": float(known.mean()),
            "histogram_known": np.histogram(score[known], bins=edges)[0].tolist(),
        }
    return metrics, ci, details


def _k(flagged: np.ndarray, known: np.ndarray) -> int:
    return int(flagged.sum()) or int(known.sum())


def anomaly_metrics(flagged: np.ndarray, score: np.ndarray, known: np.ndarray | None) -> Metrics:
    """``flagged_share``; with ``known`` anomalies also precision/recall at k and the score's
    ROC AUC and PR AUC (those the rows define)."""
    out = {"flagged_share": float(np.mean(flagged))}
    if known is None or not known.any():
        return out
    k = _k(flagged, known)
    top = np.argsort(-score, kind="stable")[:k]
    hits = float(known[top].sum())
    out |= {"precision_at_k": hits / k, "recall_at_k": hits / float(known.sum())}
    if not known.all():
        out |= {"roc_auc": _roc_auc(known, score), "pr_auc": _average_precision(known, score)}
    return out


def _roc_auc(known: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC as the Mann-Whitney statistic (ties count half), equal to scikit-learn's."""
    ranks = rankdata(score)
    positives = float(known.sum())
    negatives = len(known) - positives
    return float((ranks[known].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def _average_precision(known: np.ndarray, score: np.ndarray) -> float:
    """Average precision (PR AUC, step-wise, tied scores as one threshold) like scikit-learn's."""
    order = np.argsort(-score, kind="mergesort")
    ranked, hits = score[order], known[order].astype(float)
    last = np.r_[np.flatnonzero(np.diff(ranked)), len(ranked) - 1]
    true_positives = np.cumsum(hits)[last]
    precision = true_positives / (last + 1)
    recall = true_positives / true_positives[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
