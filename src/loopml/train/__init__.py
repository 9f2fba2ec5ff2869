"""Training: candidates, baselines, cross-validation, tuning and selection."""

from loopml.train._bundle import ModelBundle, Task, probability_column
from loopml.train._candidates import (
    DEFAULT_FAMILIES,
    FAMILIES,
    CandidateFamily,
    Choice,
    FloatRange,
    IntRange,
    Param,
    ParamSpace,
    get_family,
    resolve_families,
)
from loopml.train._engine import ThresholdStrategy, train_candidates
from loopml.train._metrics import (
    METRICS,
    Metric,
    TrainTask,
    default_metric,
    get_metric,
    metrics_for,
)
from loopml.train._result import CandidateResult, CandidateStatus, TrainingResult
from loopml.train._training_data import CvStrategy

__all__ = [
    "DEFAULT_FAMILIES",
    "FAMILIES",
    "METRICS",
    "CandidateFamily",
    "CandidateResult",
    "CandidateStatus",
    "Choice",
    "CvStrategy",
    "FloatRange",
    "IntRange",
    "Metric",
    "ModelBundle",
    "Param",
    "ParamSpace",
    "Task",
    "ThresholdStrategy",
    "TrainTask",
    "TrainingResult",
    "default_metric",
    "get_family",
    "get_metric",
    "metrics_for",
    "probability_column",
    "resolve_families",
    "train_candidates",
]
