"""Families beyond the core ones: histogram gradient boosting, XGBoost, SVM, k-NN, a small MLP.

Each is given as (defaults, search space, estimator builder), the three callables a
:class:`~loopml.train.CandidateFamily` is made of. SVM, k-NN and MLP only make sense on small
data (their fit or predict time grows fast with rows); ``MAX_ROWS`` says where they stop.
"""

from __future__ import annotations

from typing import Any

from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, SVR

from loopml.train._accelerator import xgboost_device
from loopml.train._metrics import TrainTask
from loopml.train._space import Choice, FloatRange, IntRange, ParamSpace

MAX_ROWS: dict[str, int] = {"svm": 5_000, "knn": 20_000, "mlp": 30_000}
"""Training rows above which a family is skipped (fit or predict time would dominate)."""


def _classification(task: TrainTask) -> bool:
    return task in ("binary", "multiclass")


# -- histogram gradient boosting -----------------------------------------------------------------
def hgb_defaults(task: TrainTask) -> dict[str, Any]:
    defaults: dict[str, Any] = {
        "max_iter": 300,
        "learning_rate": 0.05,
        "max_leaf_nodes": 31,
        "min_samples_leaf": 20,
        "l2_regularization": 1e-3,
    }
    if _classification(task):
        defaults["class_weight"] = None
    return defaults


def hgb_space(task: TrainTask) -> ParamSpace:
    space: ParamSpace = {
        "max_iter": IntRange(100, 1000, log=True),
        "learning_rate": FloatRange(0.01, 0.3, log=True),
        "max_leaf_nodes": IntRange(7, 127, log=True),
        "min_samples_leaf": IntRange(5, 100, log=True),
        "l2_regularization": FloatRange(1e-4, 10.0, log=True),
    }
    if _classification(task):
        space["class_weight"] = Choice((None, "balanced"))
    return space


def hgb(task: TrainTask, params: dict[str, Any], seed: int, n_jobs: int) -> Any:
    # Categories arrive as pandas ``category`` columns (the "native" preprocessing style).
    cls = HistGradientBoostingClassifier if _classification(task) else HistGradientBoostingRegressor
    return cls(random_state=seed, categorical_features="from_dtype", **params)


# -- xgboost (optional: only when the xgboost package is installed) ------------------------------
def xgboost_installed() -> bool:
    """Whether the optional ``xgboost`` package can be imported."""
    try:
        import xgboost  # noqa: F401
    except ImportError:
        return False
    return True


def xgb_defaults(task: TrainTask) -> dict[str, Any]:
    return {
        "n_estimators": 300,
        "learning_rate": 0.05,
        "max_depth": 6,
        "min_child_weight": 1.0,
        "subsample": 0.8,
        "colsample_bytree": 0.8,
        "reg_lambda": 1.0,
    }


def xgb_space(task: TrainTask) -> ParamSpace:
    return {
        "n_estimators": IntRange(100, 1000, log=True),
        "learning_rate": FloatRange(0.01, 0.3, log=True),
        "max_depth": IntRange(3, 10),
        "min_child_weight": FloatRange(0.5, 20.0, log=True),
        "subsample": FloatRange(0.5, 1.0),
        "colsample_bytree": FloatRange(0.5, 1.0),
        "reg_lambda": FloatRange(1e-3, 10.0, log=True),
    }


def xgb(task: TrainTask, params: dict[str, Any], seed: int, n_jobs: int) -> Any:
    import xgboost

    # Categories arrive as pandas ``category`` columns (the "native" style), split natively.
    fixed: dict[str, Any] = {
        "tree_method": "hist",
        "enable_categorical": True,
        "max_cat_to_onehot": 1,
        "random_state": seed,
        "n_jobs": n_jobs,
        "device": xgboost_device(),
    }
    cls = xgboost.XGBClassifier if _classification(task) else xgboost.XGBRegressor
    return cls(**fixed, **params)


# -- support vector machine ----------------------------------------------------------------------
def svm_defaults(task: TrainTask) -> dict[str, Any]:
    if _classification(task):
        return {"C": 1.0, "gamma": "scale", "class_weight": None}
    return {"C": 1.0, "gamma": "scale", "epsilon": 0.1}


def svm_space(task: TrainTask) -> ParamSpace:
    space: ParamSpace = {"C": FloatRange(1e-2, 1e2, log=True), "gamma": Choice(("scale", "auto"))}
    if _classification(task):
        space["class_weight"] = Choice((None, "balanced"))
    else:
        space["epsilon"] = FloatRange(1e-3, 1.0, log=True)
    return space


def svm(task: TrainTask, params: dict[str, Any], seed: int, n_jobs: int) -> Any:
    if _classification(task):
        # Platt scaling on out-of-fold decision values, then one SVC fitted on every row: what
        # SVC(probability=True) did before scikit-learn 1.9 deprecated it.
        return CalibratedClassifierCV(
            SVC(random_state=seed, **params), method="sigmoid", ensemble=False, n_jobs=n_jobs
        )
    # SVR's epsilon is in target units: fit on a standardised target.
    return TransformedTargetRegressor(regressor=SVR(**params), transformer=StandardScaler())


# -- k nearest neighbours ------------------------------------------------------------------------
def knn_defaults(task: TrainTask) -> dict[str, Any]:
    return {"n_neighbors": 15, "weights": "distance", "p": 2}


def knn_space(task: TrainTask) -> ParamSpace:
    return {
        "n_neighbors": IntRange(3, 100, log=True),
        "weights": Choice(("uniform", "distance")),
        "p": Choice((1, 2)),
    }


def knn(task: TrainTask, params: dict[str, Any], seed: int, n_jobs: int) -> Any:
    cls = KNeighborsClassifier if _classification(task) else KNeighborsRegressor
    return cls(n_jobs=n_jobs, **params)


# -- multi-layer perceptron ----------------------------------------------------------------------
def mlp_defaults(task: TrainTask) -> dict[str, Any]:
    return {"hidden_units": 64, "hidden_layers": 1, "alpha": 1e-4, "learning_rate_init": 1e-3}


def mlp_space(task: TrainTask) -> ParamSpace:
    return {
        "hidden_units": IntRange(16, 256, log=True),
        "hidden_layers": IntRange(1, 3),
        "alpha": FloatRange(1e-6, 1e-1, log=True),
        "learning_rate_init": FloatRange(1e-4, 1e-2, log=True),
    }


def mlp(task: TrainTask, params: dict[str, Any], seed: int, n_jobs: int) -> Any:
    options = dict(params)
    layers = (int(options.pop("hidden_units")),) * int(options.pop("hidden_layers"))
    common = {
        "hidden_layer_sizes": layers,
        "early_stopping": True,
        "max_iter": 300,
        "random_state": seed,
        **options,
    }
    if _classification(task):
        return MLPClassifier(**common)
    return TransformedTargetRegressor(
        regressor=MLPRegressor(**common), transformer=StandardScaler()
    )
