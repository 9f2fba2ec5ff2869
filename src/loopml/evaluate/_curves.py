"""Curve summaries of a holdout evaluation: small, JSON-able, never raw rows.

ROC and precision-recall curves are downsampled to at most :data:`MAX_CURVE_POINTS` points;
metric-vs-threshold uses a fixed grid of :data:`THRESHOLD_STEPS` + 1 thresholds and cumulative
gain/lift at most :data:`GAIN_POINTS` population fractions; regression keeps a residual
histogram and a sample of at most :data:`MAX_SCATTER_POINTS` (actual, predicted) pairs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn import metrics as skm

from loopml.evaluate._scored import Scored

MAX_CURVE_POINTS = 200
MAX_SCATTER_POINTS = 2_000
CALIBRATION_BINS = 10
RESIDUAL_BINS = 30
THRESHOLD_STEPS = 100
GAIN_POINTS = 100


def curve_summaries(scored: Scored, *, seed: int = 0) -> dict[str, Any]:
    """The curves worth plotting for ``scored``'s task (keys: ``roc``, ``pr``, ``calibration``,
    ``confusion``, ``threshold_metrics``, ``gain``; or ``residual_histogram``,
    ``actual_vs_predicted``). Curves the data cannot define (ROC with one class present) are
    left out."""
    if scored.task == "regression":
        return _regression_curves(scored, seed)
    out: dict[str, Any] = {"confusion": confusion(scored)}
    if scored.task == "binary":
        y, score = scored.is_positive, scored.positive_score
        if 0 < y.sum() < len(y):
            out["roc"] = roc(y, score)
            out["pr"] = precision_recall(y, score)
            out["threshold_metrics"] = threshold_metrics(y, score)
            out["gain"] = cumulative_gain(y, score)
        out["calibration"] = calibration(y, score)
        return out
    per_class = {}
    for j, label in enumerate(scored.classes):
        assert scored.proba is not None
        y = scored.y == j
        if 0 < y.sum() < len(y):
            per_class[str(label)] = roc(y, scored.proba[:, j])
    if per_class:
        out["roc_per_class"] = per_class
    return out


def _downsample(*arrays: np.ndarray) -> list[list[float]]:
    n = len(arrays[0])
    keep = np.unique(np.linspace(0, n - 1, min(n, MAX_CURVE_POINTS)).round().astype(int))
    return [np.asarray(a, dtype=float)[keep].round(6).tolist() for a in arrays]


def roc(y: np.ndarray, score: np.ndarray) -> dict[str, Any]:
    fpr, tpr, _ = skm.roc_curve(y, score)
    fpr_s, tpr_s = _downsample(fpr, tpr)
    return {"fpr": fpr_s, "tpr": tpr_s, "auc": float(skm.auc(fpr, tpr))}


def precision_recall(y: np.ndarray, score: np.ndarray) -> dict[str, Any]:
    precision, recall, _ = skm.precision_recall_curve(y, score)
    recall_s, precision_s = _downsample(recall, precision)
    return {"recall": recall_s, "precision": precision_s, "prevalence": float(np.mean(y))}


def threshold_metrics(y: np.ndarray, score: np.ndarray) -> dict[str, Any]:
    """Precision, recall and F1 of the rule ``score >= t`` for ``t`` on an even grid over [0, 1].

    ``precision`` (and ``f1``) is ``None`` at thresholds no row reaches (undefined, not zero);
    ``predicted_positive_rate`` is the share of rows at or above each threshold.
    """
    y = np.asarray(y, dtype=bool)
    score = np.asarray(score, dtype=float)
    grid = np.linspace(0.0, 1.0, THRESHOLD_STEPS + 1)
    n_above = len(score) - np.searchsorted(np.sort(score), grid, side="left")
    tp = y.sum() - np.searchsorted(np.sort(score[y]), grid, side="left")
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(n_above > 0, tp / n_above, np.nan)
        recall = tp / max(int(y.sum()), 1)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    f1 = np.where(np.isnan(precision), np.nan, f1)
    return {
        "threshold": grid.round(6).tolist(),
        "precision": _nullable(precision),
        "recall": recall.round(6).tolist(),
        "f1": _nullable(f1),
        "predicted_positive_rate": (n_above / len(score)).round(6).tolist(),
    }


def _nullable(values: np.ndarray) -> list[float | None]:
    return [None if np.isnan(v) else round(float(v), 6) for v in values]


def cumulative_gain(y: np.ndarray, score: np.ndarray) -> dict[str, Any]:
    """Cumulative gain and lift of ranking rows by ``score`` (highest first).

    At population fraction ``q`` (``fraction``; the top ``ceil(q * n)`` rows): ``gain`` is the
    share of all positives found there and ``lift`` is the positive rate there divided by the
    overall positive rate ``base_rate``. Needs at least one positive row.
    """
    y = np.asarray(y, dtype=bool)
    n = len(y)
    order = np.argsort(-np.asarray(score, dtype=float), kind="stable")
    found = np.cumsum(y[order])
    points = min(n, GAIN_POINTS)
    fraction = np.arange(1, points + 1) / points
    top = np.ceil(fraction * n - 1e-9).astype(int)
    gain = found[top - 1] / found[-1]
    base_rate = found[-1] / n
    lift = (found[top - 1] / top) / base_rate
    return {
        "fraction": fraction.round(6).tolist(),
        "gain": gain.round(6).tolist(),
        "lift": lift.round(6).tolist(),
        "base_rate": round(float(base_rate), 6),
    }


def calibration(y: np.ndarray, score: np.ndarray) -> dict[str, Any]:
    """Reliability bins of equal width on [0, 1]; empty bins are left out."""
    edges = np.linspace(0.0, 1.0, CALIBRATION_BINS + 1)
    which = np.clip(np.digitize(score, edges[1:-1]), 0, CALIBRATION_BINS - 1)
    count = np.bincount(which, minlength=CALIBRATION_BINS)
    total_score = np.bincount(which, weights=score, minlength=CALIBRATION_BINS)
    total_pos = np.bincount(which, weights=y.astype(float), minlength=CALIBRATION_BINS)
    filled = count > 0
    return {
        "bin_edges": edges.round(6).tolist(),
        "mean_predicted": (total_score[filled] / count[filled]).round(6).tolist(),
        "fraction_positive": (total_pos[filled] / count[filled]).round(6).tolist(),
        "count": count[filled].tolist(),
    }


def confusion(scored: Scored) -> dict[str, Any]:
    """Counts of (actual, predicted) labels at the model's decision rule."""
    k = len(scored.classes)
    matrix = skm.confusion_matrix(scored.y, scored.pred, labels=list(range(k)))
    return {"labels": [str(c) for c in scored.classes], "matrix": matrix.tolist()}


def _regression_curves(scored: Scored, seed: int) -> dict[str, Any]:
    residual = scored.y - scored.pred
    counts, edges = np.histogram(residual, bins=RESIDUAL_BINS)
    n = scored.n_rows
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(n, size=min(n, MAX_SCATTER_POINTS), replace=False))
    return {
        "residual_histogram": {"bin_edges": edges.round(6).tolist(), "count": counts.tolist()},
        "actual_vs_predicted": {
            "actual": scored.y[sample].round(6).tolist(),
            "predicted": scored.pred[sample].round(6).tolist(),
            "n_total": n,
        },
    }
