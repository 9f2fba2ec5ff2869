"""Training: candidates, baselines, cross-validation, tuning and selection."""

from loopml.train._bundle import ModelBundle, Task, probability_column
from loopml.train._candidates import (
    DEFAULT_FAMILIES,
    FAMILIES,
    CandidateFamily,
    get_family,
    resolve_families,
)
from loopml.train._decision import THRESHOLD_STRATEGIES, Costs, ThresholdStrategy
from loopml.train._engine import train_candidates
from loopml.train._metrics import (
    METRICS,
    Metric,
    TrainTask,
    default_metric,
    get_metric,
    metrics_for,
)
from loopml.train._result import CandidateResult, CandidateStatus, TrainingResult
from loopml.train._space import Choice, FloatRange, IntRange, Param, ParamSpace
from loopml.train._training_data import CvStrategy
from loopml.train._tuning import SAMPLERS, SamplerName, TrialRecord, parse_trials
from loopml.train._unsupervised import (
    UnsupervisedResult,
    cluster_profiles,
    train_anomaly,
    train_clusters,
)

__all__ = [
    "DEFAULT_FAMILIES",
    "FAMILIES",
    "METRICS",
    "SAMPLERS",
    "THRESHOLD_STRATEGIES",
    "CandidateFamily",
    "CandidateResult",
    "CandidateStatus",
    "Choice",
    "Costs",
    "CvStrategy",
    "FloatRange",
    "IntRange",
    "Metric",
    "ModelBundle",
    "Param",
    "ParamSpace",
    "SamplerName",
    "Task",
    "ThresholdStrategy",
    "TrainTask",
    "TrainingResult",
    "TrialRecord",
    "UnsupervisedResult",
    "cluster_profiles",
    "default_metric",
    "get_family",
    "get_metric",
    "metrics_for",
    "parse_trials",
    "probability_column",
    "resolve_families",
    "train_anomaly",
    "train_candidates",
    "train_clusters",
]
