"""What every step of one ``train_candidates`` call shares: data, folds, options and the clock."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from loopml.data._contract import DataContract
from loopml.features import FeaturePlan
from loopml.train._decision import Costs, ThresholdStrategy
from loopml.train._fitting import run_folds
from loopml.train._metrics import Metric, TrainTask
from loopml.train._training_data import Fold, TrainingData
from loopml.train._tuning import Evaluation, SamplerName

REFIT_FACTOR = 1.5
"""A refit on all rows costs about this many cross-validation fold fits (budget planning)."""


@dataclass
class Session:
    """Everything the candidates of one call share, and the running time estimate."""

    data: TrainingData
    contract: DataContract
    task: TrainTask
    metric: Metric
    folds: list[Fold]
    seed: int
    n_jobs: int
    deadline: float
    time_budget: float
    cv_strategy: str
    report: Callable[[str, float], None]
    threshold: ThresholdStrategy = "fixed"
    costs: Costs | None = None
    calibrate: bool = False
    tune: bool = False
    sampler: SamplerName = "tpe"
    trials: dict[str, int] | int | None = None
    ensemble: bool = False
    max_latency_ms: float | None = None
    plan: FeaturePlan | None = None
    fold_seconds: float | None = None  # per-fold time of the last cross-validated family
    fold_cost: float = 1.0  # that family's relative cost

    def remaining(self) -> float:
        return self.deadline - time.perf_counter()

    @property
    def n_classes(self) -> int:
        return len(self.data.classes)

    @property
    def sign(self) -> float:
        """+1 when the metric is higher-is-better, else -1 (signed scores: higher is better)."""
        return 1.0 if self.metric.greater_is_better else -1.0

    @property
    def replay(self) -> bool:
        """A fixed trial count was given: tuning and refits ignore the clock (reproducible)."""
        return self.trials is not None

    def trials_for(self, family: str) -> int | None:
        if isinstance(self.trials, dict):
            return int(self.trials.get(family, 0))
        return self.trials

    def score(self, y_true: np.ndarray, y_score: np.ndarray) -> float:
        """The metric on one fold; NaN when it is undefined there (e.g. one class in the fold)."""
        try:
            return self.metric.score(y_true, y_score, positive_index=self.data.positive_index)
        except ValueError:
            return math.nan

    def build(self, family: Any, params: dict[str, Any] | None = None) -> Any:
        """``family``'s unfitted pipeline with ``params``, the session's seed and feature plan."""
        return family.build(
            self.contract, self.task, params, seed=self.seed, n_jobs=self.n_jobs, plan=self.plan
        )

    def evaluate(
        self, pipeline: Any, after_fold: Callable[[int, list[float], float], None]
    ) -> Evaluation:
        """Cross-validate ``pipeline`` on the session's folds (see ``run_folds``)."""
        data = self.data
        return run_folds(
            pipeline, data.X, data.y, self.folds, self.n_classes, self.score, after_fold
        )

    def overall(self, y_true: np.ndarray, y_score: np.ndarray) -> float:
        """Signed metric (higher is better) of predictions over all their rows at once."""
        return self.sign * self.score(y_true, y_score)
