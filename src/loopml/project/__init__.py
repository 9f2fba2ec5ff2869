"""The project: the composition root that wires charter, store and artifacts, and the lifecycle
workflows (init, ingest, validate, train, evaluate, predict, serve, monitor, retrain) that the
CLI, the Python API and the web UI share."""

from loopml.project._evaluate import EvaluationOutcome, evaluate
from loopml.project._ingest import ingest, load_dataset
from loopml.project._init import init_project
from loopml.project._monitor import MonitorOutcome, monitor, monitor_files
from loopml.project._predict import PredictOutcome, predict
from loopml.project._project import Project, ProjectPaths
from loopml.project._retrain import RetrainOutcome, retrain
from loopml.project._serve import RegistryResolver, build_app
from loopml.project._train import TrainOutcome, train
from loopml.project._validate import ValidateOutcome, validate_data

__all__ = [
    "EvaluationOutcome",
    "MonitorOutcome",
    "PredictOutcome",
    "Project",
    "ProjectPaths",
    "RegistryResolver",
    "RetrainOutcome",
    "TrainOutcome",
    "ValidateOutcome",
    "build_app",
    "evaluate",
    "ingest",
    "init_project",
    "load_dataset",
    "monitor",
    "monitor_files",
    "predict",
    "retrain",
    "train",
    "validate_data",
]
