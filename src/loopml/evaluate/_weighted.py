"""Metrics of many bootstrap replicates at once.

A replicate is a row of counts ``C`` (how often each holdout row was drawn), so every metric that
is a sum over rows becomes a matrix product ``C @ per_row_value``; ranking metrics (ROC AUC,
average precision) and the median use the rows sorted once. Each function returns, for the
requested names, one value per replicate (NaN where the replicate leaves the metric undefined),
matching :mod:`loopml.evaluate._metrics` on the resampled rows.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from loopml.evaluate._scored import Scored

_EPS = np.finfo(float).eps
Values = dict[str, np.ndarray]


def replicate_metrics(scored: Scored, counts: np.ndarray, names: set[str]) -> Values:
    """Metric values of each replicate (rows of ``counts``, shape ``(m, n_rows)``)."""
    kernel: dict[str, Callable[[Scored, np.ndarray, set[str]], Values]] = {
        "binary": _binary,
        "multiclass": _multiclass,
        "regression": _regression,
    }
    values = kernel[scored.task](scored, counts.astype(float), names)
    return {name: values[name] for name in names if name in values}


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _log_loss_rows(proba_of_truth: np.ndarray) -> np.ndarray:
    return -np.log(np.clip(proba_of_truth, _EPS, 1 - _EPS))


def _binary(s: Scored, C: np.ndarray, names: set[str]) -> Values:
    y = s.is_positive.astype(float)
    p = (s.pred == s.positive).astype(float)
    score = s.positive_score
    n = C.sum(axis=1)
    tp, fp, fn = C @ (y * p), C @ ((1 - y) * p), C @ (y * (1 - p))
    tn = n - tp - fp - fn
    recall, specificity = _ratio(tp, tp + fn), _ratio(tn, tn + fp)
    with np.errstate(invalid="ignore"):
        balanced = np.nanmean(np.column_stack([recall, specificity]), axis=1)
        mcc = _ratio(tp * tn - fp * fn, np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)))
    out: Values = {
        "accuracy": (tp + tn) / n,
        "balanced_accuracy": balanced,
        "precision": _ratio(tp, tp + fp),
        "recall": recall,
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "mcc": mcc,
        "log_loss": C @ _log_loss_rows(np.where(y == 1, score, 1 - score)) / n,
        "brier": C @ (score - y) ** 2 / n,
    }
    if names & {"roc_auc", "pr_auc"}:
        out["roc_auc"], out["pr_auc"] = ranking_metrics(C, score, y.astype(bool))
    return out


def ranking_metrics(
    C: np.ndarray, score: np.ndarray, positive: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """ROC AUC (ties count half) and average precision of each replicate."""
    order = np.argsort(-score, kind="stable")
    sorted_score = score[order]
    starts = np.flatnonzero(np.r_[True, np.diff(sorted_score) != 0])
    Cs = C[:, order]
    pos_g = np.add.reduceat(Cs * positive[order], starts, axis=1)
    neg_g = np.add.reduceat(Cs * ~positive[order], starts, axis=1)
    p_tot, n_tot = pos_g.sum(axis=1), neg_g.sum(axis=1)
    cum_neg = np.cumsum(neg_g, axis=1)
    beaten = (n_tot[:, None] - cum_neg + 0.5 * neg_g) * pos_g
    auc = _ratio(beaten.sum(axis=1), p_tot * n_tot)
    tp_c, fp_c = np.cumsum(pos_g, axis=1), cum_neg
    precision = np.nan_to_num(_ratio(tp_c, tp_c + fp_c))
    ap = _ratio((pos_g * precision).sum(axis=1), p_tot)
    ap[n_tot + p_tot == 0] = np.nan
    both = (p_tot > 0) & (n_tot > 0)
    return np.where(both, auc, np.nan), np.where(both, ap, np.nan)


def _multiclass(s: Scored, C: np.ndarray, names: set[str]) -> Values:
    assert s.proba is not None
    k = len(s.classes)
    truth = np.eye(k)[s.y]
    chosen = np.eye(k)[s.pred]
    n = C.sum(axis=1)
    tp, support, predicted = C @ (truth * chosen), C @ truth, C @ chosen
    with np.errstate(invalid="ignore"):
        f1 = _ratio(2 * tp, support + predicted)
        out: Values = {
            "accuracy": tp.sum(axis=1) / n,
            "balanced_accuracy": np.nanmean(_ratio(tp, support), axis=1),
            "f1_macro": np.nanmean(f1, axis=1),
            "f1_weighted": np.nansum(f1 * support, axis=1) / n,
            "log_loss": C @ _log_loss_rows(s.proba[np.arange(s.n_rows), s.y]) / n,
        }
    if "roc_auc" in names:
        per_class = [ranking_metrics(C, s.proba[:, j], s.y == j)[0] for j in range(k)]
        # NaN for a class missing from the replicate propagates: the macro AUC is undefined.
        out["roc_auc"] = np.mean(np.column_stack(per_class), axis=1)
    return out


def _regression(s: Scored, C: np.ndarray, names: set[str]) -> Values:
    y, err = s.y, s.pred - s.y
    n = C.sum(axis=1)
    nonzero = (y != 0).astype(float)
    sst = C @ y**2 - (C @ y) ** 2 / n
    out: Values = {
        "rmse": np.sqrt(C @ err**2 / n),
        "mae": C @ np.abs(err) / n,
        "mape": _ratio(C @ (np.abs(err) / np.where(y != 0, np.abs(y), 1.0) * nonzero), C @ nonzero),
        "r2": 1 - _ratio(C @ err**2, np.where(sst > 1e-12 * np.maximum(C @ y**2, 1), sst, 0)),
    }
    if "median_absolute_error" in names:
        out["median_absolute_error"] = _weighted_median(C, np.abs(err))
    return out


def _weighted_median(C: np.ndarray, values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    cum = np.cumsum(C[:, order], axis=1)
    total = cum[:, -1]
    lower = (cum > ((total - 1) // 2)[:, None]).argmax(axis=1)
    upper = (cum > (total // 2)[:, None]).argmax(axis=1)
    return (sorted_values[lower] + sorted_values[upper]) / 2
