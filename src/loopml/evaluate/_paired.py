"""Champion vs challenger: paired tests of two models scored on the same labelled rows.

- Bootstrap: the same resampled rows score both models; the percentile interval of the
  difference in the primary metric (A - B) and a two-sided bootstrap p-value.
- McNemar (accuracy, classification): on the rows where exactly one model is right; exact
  binomial test when fewer than 25 such rows, else chi-square with continuity correction.
- DeLong (ROC AUC, binary): the fast algorithm of Sun & Xu (2014), O(n log n) via midranks.

The verdict uses the test made for the primary metric (DeLong for ``roc_auc``, McNemar for
``accuracy``, the bootstrap otherwise): ``A better``, ``B better`` or
``no significant difference`` at level ``alpha``, direction-aware (lower RMSE is better).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from loopml.errors import InvalidInputError
from loopml.evaluate._metrics import GREATER_IS_BETTER, metrics_of
from loopml.evaluate._report import _labelled_rows
from loopml.evaluate._scored import Scored, score_arrays
from loopml.evaluate._weighted import replicate_metrics
from loopml.reports import to_jsonable
from loopml.train._bundle import ModelBundle

A_BETTER, B_BETTER, NO_DIFFERENCE = "A better", "B better", "no significant difference"


def delong_test(positive: np.ndarray, score_a: np.ndarray, score_b: np.ndarray) -> dict[str, float]:
    """DeLong's test of equal ROC AUC for two correlated scores of the same rows.

    Returns ``auc_a``, ``auc_b``, ``difference`` (A - B), ``se`` of the difference, ``z`` and the
    two-sided ``p_value``.

    Raises:
        InvalidInputError: only one class is present.
    """
    positive = np.asarray(positive, dtype=bool)
    m, n = int(positive.sum()), int((~positive).sum())
    if m == 0 or n == 0:
        raise InvalidInputError("DeLong's test needs both classes among the rows.")
    scores = np.vstack([score_a, score_b]).astype(float)
    ordered = np.hstack([scores[:, positive], scores[:, ~positive]])
    tx = stats.rankdata(ordered[:, :m], axis=1)
    ty = stats.rankdata(ordered[:, m:], axis=1)
    tz = stats.rankdata(ordered, axis=1)
    aucs = tz[:, :m].sum(axis=1) / (m * n) - (m + 1.0) / (2.0 * n)
    v01 = (tz[:, :m] - tx) / n
    v10 = 1.0 - (tz[:, m:] - ty) / m
    cov = np.cov(v01) / m + np.cov(v10) / n
    variance = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    diff = float(aucs[0] - aucs[1])
    se = float(np.sqrt(max(variance, 0.0)))
    z = diff / se if se > 0 else 0.0
    p = float(2 * stats.norm.sf(abs(z))) if se > 0 else 1.0
    return {
        "auc_a": float(aucs[0]),
        "auc_b": float(aucs[1]),
        "difference": diff,
        "se": se,
        "z": z,
        "p_value": p,
    }


def mcnemar_test(correct_a: np.ndarray, correct_b: np.ndarray) -> dict[str, float]:
    """McNemar's test of equal accuracy: ``a_only`` rows only A gets right, ``b_only`` only B."""
    a_only = int(np.sum(correct_a & ~correct_b))
    b_only = int(np.sum(~correct_a & correct_b))
    discordant = a_only + b_only
    if discordant == 0:
        p, method = 1.0, "exact"
    elif discordant < 25:
        p = float(stats.binomtest(a_only, discordant, 0.5).pvalue)
        method = "exact"
    else:
        statistic = (abs(a_only - b_only) - 1) ** 2 / discordant
        p, method = float(stats.chi2.sf(statistic, 1)), "chi2"
    return {"a_only": a_only, "b_only": b_only, "p_value": p, "method": method}  # type: ignore[dict-item]


def bootstrap_difference(
    a: Scored, b: Scored, metric: str, *, n_boot: int = 1000, seed: int = 0, level: float = 0.95
) -> dict[str, float]:
    """Paired bootstrap of ``metric(A) - metric(B)``: interval and two-sided p-value."""
    rng = np.random.default_rng(seed)
    n = a.n_rows
    chunk = max(1, 2_000_000 // n)
    diffs = []
    for start in range(0, n_boot, chunk):
        size = min(chunk, n_boot - start)
        drawn = rng.integers(0, n, size=(size, n))
        flat = (drawn + (np.arange(size) * n)[:, None]).ravel()
        counts = np.bincount(flat, minlength=size * n).reshape(size, n).astype(float)
        va = replicate_metrics(a, counts, {metric}).get(metric, np.full(size, np.nan))
        vb = replicate_metrics(b, counts, {metric}).get(metric, np.full(size, np.nan))
        diffs.append(va - vb)
    values = np.concatenate(diffs)
    values = values[np.isfinite(values)]
    if values.size < 2:
        return {"low": float("nan"), "high": float("nan"), "p_value": 1.0, "n_boot": n_boot}
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    p = min(1.0, 2 * min(np.mean(values <= 0), np.mean(values >= 0)))
    return {"low": float(low), "high": float(high), "p_value": float(p), "n_boot": n_boot}


@dataclass
class Comparison:
    """Two models on the same rows: their metrics, the paired tests and the verdict."""

    ref_a: str
    ref_b: str
    metric: str
    n_rows: int
    metrics_a: dict[str, float]
    metrics_b: dict[str, float]
    verdict: str
    test: str
    p_value: float
    message: str
    tests: dict[str, Any] = field(default_factory=dict)

    @property
    def b_better(self) -> bool:
        return self.verdict == B_BETTER

    def to_dict(self) -> dict[str, Any]:
        return dict(
            to_jsonable(
                {
                    "a": self.ref_a,
                    "b": self.ref_b,
                    "metric": self.metric,
                    "n_rows": self.n_rows,
                    "metrics_a": self.metrics_a,
                    "metrics_b": self.metrics_b,
                    "verdict": self.verdict,
                    "test": self.test,
                    "p_value": self.p_value,
                    "message": self.message,
                    "tests": self.tests,
                }
            )
        )


def _scored(bundle: ModelBundle, frame: pd.DataFrame) -> Scored:
    labelled, target, _ = _labelled_rows(bundle, frame)
    return score_arrays(
        bundle.task,
        labelled[target],
        bundle.predict_frame(labelled),
        classes=bundle.classes,
        positive_class=bundle.positive_class,
    )


def compare_models(
    bundle_a: ModelBundle,
    bundle_b: ModelBundle,
    frame: pd.DataFrame,
    *,
    metric: str,
    ref_a: str = "A",
    ref_b: str = "B",
    alpha: float = 0.05,
    n_boot: int = 1000,
    seed: int = 0,
) -> Comparison:
    """Score both models on the labelled rows of ``frame`` and test the difference.

    Raises:
        InvalidInputError: the models solve different tasks, ``metric`` is unknown or undefined
            on this data, or a bad input (see ``evaluate_model``).
        DataError: the frame lacks the target or a feature column.
    """
    if bundle_a.task != bundle_b.task:
        raise InvalidInputError(
            f"Cannot compare a {bundle_a.task} model with a {bundle_b.task} model.",
            hint="Compare two versions of the same model.",
        )
    a, b = _scored(bundle_a, frame), _scored(bundle_b, frame)
    metrics_a, metrics_b = metrics_of(a), metrics_of(b)
    if metric not in metrics_a or metric not in metrics_b:
        raise InvalidInputError(
            f"The metric {metric!r} is not defined for these models on this data.",
            hint=f"Available: {', '.join(sorted(set(metrics_a) & set(metrics_b)))}.",
        )
    tests: dict[str, Any] = {
        "bootstrap": bootstrap_difference(a, b, metric, n_boot=n_boot, seed=seed)
    }
    tests["bootstrap"]["difference"] = metrics_a[metric] - metrics_b[metric]
    if a.task != "regression":
        tests["mcnemar"] = mcnemar_test(a.pred == a.y, b.pred == b.y)
    if a.task == "binary":
        tests["delong"] = delong_test(a.is_positive, a.positive_score, b.positive_score)
    test = {"roc_auc": "delong", "accuracy": "mcnemar"}.get(metric, "bootstrap")
    test = test if test in tests else "bootstrap"
    p = float(tests[test]["p_value"])
    greater = GREATER_IS_BETTER.get(metric, True)
    diff = metrics_a[metric] - metrics_b[metric]
    a_wins = diff > 0 if greater else diff < 0
    verdict = NO_DIFFERENCE if p >= alpha or diff == 0 else (A_BETTER if a_wins else B_BETTER)
    message = (
        f"{metric}: {ref_a} {metrics_a[metric]:.4g} vs {ref_b} {metrics_b[metric]:.4g} "
        f"(difference {diff:+.4g}, 95% bootstrap interval {tests['bootstrap']['low']:+.4g} to "
        f"{tests['bootstrap']['high']:+.4g}); {test} p = {p:.3g}: {verdict} at level {alpha}."
    )
    return Comparison(
        ref_a, ref_b, metric, a.n_rows, metrics_a, metrics_b, verdict, test, p, message, tests
    )
