"""The project: the composition root that wires charter, store and artifacts, and the lifecycle
workflows (init, ingest, profile, validate, train, evaluate, compare, predict, serve, deploy,
monitor, retrain, lineage) that the CLI, the Python API and the demo share."""

from loopml.project._auto_retrain import AutoRetrainOutcome, retrain_if_triggered
from loopml.project._compare import CompareOutcome, compare
from loopml.project._deploy import (
    advance,
    deploy_ab,
    deploy_bandit,
    deploy_blue_green,
    deploy_canary,
    deploy_shadow,
    deploy_single,
    rollback,
)
from loopml.project._deploy_checks import deployment_status, smoke_check
from loopml.project._deploy_stats import live_ref
from loopml.project._evaluate import EvaluationOutcome, evaluate
from loopml.project._ingest import ingest, load_dataset
from loopml.project._init import init_project
from loopml.project._lineage import Lineage, lineage
from loopml.project._monitor import MonitorOutcome, monitor, monitor_files
from loopml.project._predict import PredictOutcome, predict
from loopml.project._profile import ProfileOutcome, profile, profile_file
from loopml.project._project import Project, ProjectPaths
from loopml.project._retrain import RetrainOutcome, retrain
from loopml.project._serve import (
    RegistryResolver,
    StoreDeploymentResolver,
    build_app,
    package,
)
from loopml.project._train import TrainOutcome, train
from loopml.project._validate import (
    CleanOutcome,
    ValidateOutcome,
    preview_cleaning,
    validate_data,
)

__all__ = [
    "AutoRetrainOutcome",
    "CleanOutcome",
    "CompareOutcome",
    "EvaluationOutcome",
    "Lineage",
    "MonitorOutcome",
    "PredictOutcome",
    "ProfileOutcome",
    "Project",
    "ProjectPaths",
    "RegistryResolver",
    "RetrainOutcome",
    "StoreDeploymentResolver",
    "TrainOutcome",
    "ValidateOutcome",
    "advance",
    "build_app",
    "compare",
    "deploy_ab",
    "deploy_bandit",
    "deploy_blue_green",
    "deploy_canary",
    "deploy_shadow",
    "deploy_single",
    "deployment_status",
    "evaluate",
    "ingest",
    "init_project",
    "lineage",
    "live_ref",
    "load_dataset",
    "monitor",
    "monitor_files",
    "package",
    "predict",
    "preview_cleaning",
    "profile",
    "profile_file",
    "retrain",
    "retrain_if_triggered",
    "rollback",
    "smoke_check",
    "train",
    "validate_data",
]
