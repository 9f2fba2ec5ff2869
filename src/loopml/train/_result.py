"""What training returns: one result per candidate, the best one and a leaderboard."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from loopml.train._bundle import ModelBundle

CandidateStatus = Literal["ok", "skipped", "failed"]


@dataclass(eq=False)
class CandidateResult:
    """One candidate family's cross-validation and refit.

    Attributes:
        family: the candidate family.
        params: the configuration trained.
        status: ``ok`` (cross-validated and refitted), ``skipped`` (not trained: time budget,
            unusable data) or ``failed`` (an error while fitting).
        reason: why it was skipped, failed or stopped early; empty otherwise.
        fold_scores: the metric on each validation fold.
        cv_mean, cv_std: mean and standard deviation of ``fold_scores`` (None unless ok).
        cv_seconds: time spent cross-validating.
        fit_seconds: time of the refit on the full training data.
        latency_ms_p50, latency_ms_p99: median and 99th percentile single-row prediction time
            of the refitted model.
        n_trials: tuning trials run for this family (0: default configuration only).
        bundle: the refitted model (None unless ok).
        warnings: distinct warnings raised while fitting.
        features: what the refitted pipeline's feature engineering decided: ``dropped``
            (feature selection: ``{column, reason, score}`` per dropped column) and ``pca``
            (``{components, explained_variance}`` or None).
    """

    family: str
    params: dict[str, Any] = field(default_factory=dict)
    status: CandidateStatus = "ok"
    reason: str = ""
    fold_scores: list[float] = field(default_factory=list)
    cv_mean: float | None = None
    cv_std: float | None = None
    cv_seconds: float = 0.0
    fit_seconds: float = 0.0
    latency_ms_p50: float | None = None
    latency_ms_p99: float | None = None
    n_trials: int = 0
    bundle: ModelBundle | None = None
    warnings: list[str] = field(default_factory=list)
    features: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        """The result without the model, JSON-able (NaN becomes None)."""
        return {
            "family": self.family,
            "status": self.status,
            "reason": self.reason,
            "cv_mean": _finite(self.cv_mean),
            "cv_std": _finite(self.cv_std),
            "fold_scores": [_finite(s) for s in self.fold_scores],
            "cv_seconds": round(self.cv_seconds, 4),
            "fit_seconds": round(self.fit_seconds, 4),
            "latency_ms_p50": _finite(self.latency_ms_p50),
            "latency_ms_p99": _finite(self.latency_ms_p99),
            "trials": self.n_trials,
            "params": dict(self.params),
            "warnings": list(self.warnings),
            "features": dict(self.features),
        }


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


@dataclass
class TrainingResult:
    """All candidates of one training call and the chosen one.

    ``best`` has the best ``cv_mean`` in the metric's direction; ties go to the simpler family.
    ``baseline_score`` is the better of the dummy and linear baselines' ``cv_mean``.
    ``trials`` is the number of tuning trials per tuned family: pass it back as
    ``train_candidates(trials=…)`` to replay the search exactly. ``features`` describes the
    feature plan (derived features, target-encoded columns, selection, PCA);
    ``unlabelled_rows`` counts rows without a target kept for self-training.
    """

    candidates: list[CandidateResult]
    best: CandidateResult
    baseline_score: float | None
    metric: str
    greater_is_better: bool
    task: str
    classes: list[Any]
    positive_class: Any
    n_train_rows: int
    dropped_target_rows: int
    cv_folds: int
    cv_strategy: str
    seconds: float
    warnings: list[str] = field(default_factory=list)
    trials: dict[str, int] = field(default_factory=dict)
    features: dict[str, Any] = field(default_factory=dict)
    unlabelled_rows: int = 0

    @property
    def feature_selection(self) -> list[dict[str, Any]]:
        """What feature selection dropped in the best candidate: ``{column, reason, score}``."""
        return list(self.best.features.get("dropped") or [])

    @property
    def pseudo_labels(self) -> int | None:
        """Pseudo-labels the self-trained candidate added (None when none was trained)."""
        for result in self.candidates:
            if result.family == "self_training" and result.ok:
                return int(result.params.get("pseudo_labels", 0))
        return None

    def candidate(self, family: str) -> CandidateResult:
        """The result of ``family``. Raises KeyError if it was not among the candidates."""
        for result in self.candidates:
            if result.family == family:
                return result
        raise KeyError(family)

    def leaderboard(self) -> list[dict[str, Any]]:
        """Candidates as JSON-able rows: fitted ones best first, then skipped and failed ones."""
        sign = -1.0 if self.greater_is_better else 1.0
        fitted = sorted(
            (c for c in self.candidates if c.ok and c.cv_mean is not None),
            key=lambda c: sign * c.cv_mean,  # type: ignore[operator]
        )
        others = [c for c in self.candidates if all(c is not f for f in fitted)]
        rows = []
        for rank, result in enumerate([*fitted, *others], start=1):
            row = {"rank": rank if rank <= len(fitted) else None, **result.to_dict()}
            row["is_best"] = result is self.best
            row["metric"] = self.metric
            rows.append(row)
        return rows
