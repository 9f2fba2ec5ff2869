"""What every step of one ``train_candidates`` call shares: data, folds, options and the clock."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from loopml.data._contract import DataContract
from loopml.features import FeaturePlan
from loopml.train._decision import Costs, ThresholdStrategy
from loopml.train._fitting import run_folds
from loopml.train._metrics import Metric, TrainTask
from loopml.train._training_data import Fold, TrainingData
from loopml.train._tuning import Evaluation, SamplerName

REFIT_FACTOR = 1.5
"""A refit on all rows costs about this many cross-validation fold fits (budget planning)."""
BUSY_EFFICIENCY = 0.7
"""A multi-threaded fold fit whose CPU time is below this share of ``threads x wall time`` is
waiting for cores that other work holds: OpenMP boosters then slow down many times over (each
barrier waits for a descheduled thread), so models fall back to one thread."""
MAX_FALLBACKS = 2
"""After this many fallbacks to one thread, models keep one thread for the rest of the call."""
MIN_OBSERVED_SECONDS = 0.05
"""Folds shorter than this are not judged for busy cores (their times are mostly overhead)."""


class _Restart(Exception):
    """Raised inside cross-validation to start it again on one thread."""


def idle_threads(n_jobs: int, own: float = 0.0) -> int:
    """``n_jobs``, or 1 when the load average (less ``own``, this process's share) says other
    work holds the cores that ``n_jobs`` threads need."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    return n_jobs if load - own <= (cores or 1) - n_jobs + 0.5 else 1


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
    threads: int = 0  # threads per model now: n_jobs, or 1 while the machine's cores are busy
    fallbacks: int = 0  # times models fell back to one thread

    def __post_init__(self) -> None:
        self.threads = self.threads or idle_threads(self.n_jobs)

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
        """``family``'s unfitted pipeline with ``params``, the session's seed and feature plan.

        Its threads are the session's current ones (see :meth:`model_threads`); the thread
        count never changes a model's predictions, only its speed.
        """
        return family.build(
            self.contract,
            self.task,
            params,
            seed=self.seed,
            n_jobs=self.model_threads(),
            plan=self.plan,
        )

    def model_threads(self) -> int:
        """Threads for the next model: ``n_jobs``, or 1 after a fit found the cores busy (back
        to ``n_jobs`` once the load average shows the other work gone)."""
        retry = self.threads < self.n_jobs and self.fallbacks < MAX_FALLBACKS
        if retry and idle_threads(self.n_jobs, own=1.0) > 1:  # our own thread counts ~1
            self.threads = self.n_jobs
        return self.threads

    def use_session_threads(self, pipeline: Any) -> None:
        """Lower the threads of ``pipeline``'s model (in place) to the session's current ones."""
        model = pipeline.steps[-1][1] if hasattr(pipeline, "steps") else None
        threads = getattr(model, "n_jobs", None)
        if isinstance(threads, int) and threads > self.threads:
            pipeline.set_params(**{f"{pipeline.steps[-1][0]}__n_jobs": self.threads})

    def evaluate(
        self, pipeline: Any, after_fold: Callable[[int, list[float], float], None]
    ) -> Evaluation:
        """Cross-validate ``pipeline`` on the session's folds (see ``run_folds``).

        Each fold's CPU and wall time are compared: a multi-threaded model that gets much less
        than its threads' worth of CPU competes for busy cores, so the session falls back to one
        thread and the cross-validation restarts with ``pipeline`` (changed in place) on one
        thread, its slow fold discarded. BLAS and OpenMP pools (scikit-learn's histogram boosting
        has no n_jobs) are held to the session's threads.
        """
        data = self.data
        marks = [0.0, 0.0]

        def observed(k: int, scores: list[float], per_fold: float) -> None:
            wall, cpu = time.perf_counter() - marks[0], time.process_time() - marks[1]
            if self._busy(pipeline, wall, cpu):
                raise _Restart
            after_fold(k, scores, per_fold)
            marks[:] = [time.perf_counter(), time.process_time()]

        while True:  # restarts at most once: the model then has one thread
            marks[:] = [time.perf_counter(), time.process_time()]
            try:
                with threadpool_limits(limits=self.threads):  # BLAS and OpenMP pools
                    return run_folds(
                        pipeline, data.X, data.y, self.folds, self.n_classes, self.score, observed
                    )
            except _Restart:
                continue

    def _busy(self, pipeline: Any, wall: float, cpu: float) -> bool:
        """Whether a fold of ``pipeline`` found the cores busy (then: fall back to one thread)."""
        model = pipeline.steps[-1][1] if hasattr(pipeline, "steps") else None
        threads = getattr(model, "n_jobs", None)
        if not isinstance(threads, int) or threads <= 1 or wall < MIN_OBSERVED_SECONDS:
            return False
        if cpu >= BUSY_EFFICIENCY * threads * wall:
            return False
        self.fallbacks += 1
        self.threads = 1
        self.use_session_threads(pipeline)
        return True

    def overall(self, y_true: np.ndarray, y_score: np.ndarray) -> float:
        """Signed metric (higher is better) of predictions over all their rows at once."""
        return self.sign * self.score(y_true, y_score)
