"""The project: the composition root that wires charter, store and artifacts, and the lifecycle
workflows (init, ingest, profile, validate, train, evaluate, compare, predict, serve, deploy,
monitor, retrain, lineage) that the CLI, the Python API and the demo share."""

from typing import TYPE_CHECKING

from loopml._lazy import lazy_exports

if TYPE_CHECKING:
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

_EXPORTS = {
    "AutoRetrainOutcome": "loopml.project._auto_retrain",
    "retrain_if_triggered": "loopml.project._auto_retrain",
    "CompareOutcome": "loopml.project._compare",
    "compare": "loopml.project._compare",
    "advance": "loopml.project._deploy",
    "deploy_ab": "loopml.project._deploy",
    "deploy_bandit": "loopml.project._deploy",
    "deploy_blue_green": "loopml.project._deploy",
    "deploy_canary": "loopml.project._deploy",
    "deploy_shadow": "loopml.project._deploy",
    "deploy_single": "loopml.project._deploy",
    "rollback": "loopml.project._deploy",
    "deployment_status": "loopml.project._deploy_checks",
    "smoke_check": "loopml.project._deploy_checks",
    "live_ref": "loopml.project._deploy_stats",
    "EvaluationOutcome": "loopml.project._evaluate",
    "evaluate": "loopml.project._evaluate",
    "ingest": "loopml.project._ingest",
    "load_dataset": "loopml.project._ingest",
    "init_project": "loopml.project._init",
    "Lineage": "loopml.project._lineage",
    "lineage": "loopml.project._lineage",
    "MonitorOutcome": "loopml.project._monitor",
    "monitor": "loopml.project._monitor",
    "monitor_files": "loopml.project._monitor",
    "PredictOutcome": "loopml.project._predict",
    "predict": "loopml.project._predict",
    "ProfileOutcome": "loopml.project._profile",
    "profile": "loopml.project._profile",
    "profile_file": "loopml.project._profile",
    "Project": "loopml.project._project",
    "ProjectPaths": "loopml.project._project",
    "RetrainOutcome": "loopml.project._retrain",
    "retrain": "loopml.project._retrain",
    "RegistryResolver": "loopml.project._serve",
    "StoreDeploymentResolver": "loopml.project._serve",
    "build_app": "loopml.project._serve",
    "package": "loopml.project._serve",
    "TrainOutcome": "loopml.project._train",
    "train": "loopml.project._train",
    "CleanOutcome": "loopml.project._validate",
    "ValidateOutcome": "loopml.project._validate",
    "preview_cleaning": "loopml.project._validate",
    "validate_data": "loopml.project._validate",
}

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
