"""Training: candidates, baselines, cross-validation, tuning and selection."""

from typing import TYPE_CHECKING

from loopml._lazy import lazy_exports

if TYPE_CHECKING:
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

_EXPORTS = {
    "ModelBundle": "loopml.train._bundle",
    "Task": "loopml.train._bundle",
    "probability_column": "loopml.train._bundle",
    "DEFAULT_FAMILIES": "loopml.train._candidates",
    "FAMILIES": "loopml.train._candidates",
    "CandidateFamily": "loopml.train._candidates",
    "get_family": "loopml.train._candidates",
    "resolve_families": "loopml.train._candidates",
    "THRESHOLD_STRATEGIES": "loopml.train._decision",
    "Costs": "loopml.train._decision",
    "ThresholdStrategy": "loopml.train._decision",
    "train_candidates": "loopml.train._engine",
    "METRICS": "loopml.train._metrics",
    "Metric": "loopml.train._metrics",
    "TrainTask": "loopml.train._metrics",
    "default_metric": "loopml.train._metrics",
    "get_metric": "loopml.train._metrics",
    "metrics_for": "loopml.train._metrics",
    "CandidateResult": "loopml.train._result",
    "CandidateStatus": "loopml.train._result",
    "TrainingResult": "loopml.train._result",
    "Choice": "loopml.train._space",
    "FloatRange": "loopml.train._space",
    "IntRange": "loopml.train._space",
    "Param": "loopml.train._space",
    "ParamSpace": "loopml.train._space",
    "CvStrategy": "loopml.train._training_data",
    "SAMPLERS": "loopml.train._tuning",
    "SamplerName": "loopml.train._tuning",
    "TrialRecord": "loopml.train._tuning",
    "parse_trials": "loopml.train._tuning",
    "UnsupervisedResult": "loopml.train._unsupervised",
    "cluster_profiles": "loopml.train._unsupervised",
    "train_anomaly": "loopml.train._unsupervised",
    "train_clusters": "loopml.train._unsupervised",
}

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
