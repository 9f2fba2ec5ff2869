"""Candidate model families: a default configuration and a hyperparameter space for each.

A family builds ``Pipeline([("preprocess", build_preprocessor(contract, family)), ("model", …)])``
so preprocessing is fitted with the model and travels with it. The search spaces are plain data
(:class:`IntRange`, :class:`FloatRange`, :class:`Choice`) for a tuner to sample from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lightgbm import LGBMClassifier, LGBMRegressor
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline

from loopml.data._contract import DataContract
from loopml.errors import InvalidInputError
from loopml.features import FeaturePlan, feature_steps
from loopml.train import _more_families as more
from loopml.train._accelerator import lightgbm_device
from loopml.train._metrics import TrainTask
from loopml.train._space import Choice, FloatRange, IntRange, ParamSpace

N_JOBS = 2
"""Default threads per model for LightGBM and forests (training runs beside other work)."""
CATEGORIES = "categories"
"""A family parameter that configures the preprocessing rather than the estimator: ``native``
(boosters split pandas categories natively) or ``codes`` (categories as ordinal codes, split as
ordered numbers; see :class:`~loopml.features._preprocess.Encoding`)."""


@dataclass(frozen=True)
class CandidateFamily:
    """A model family.

    Attributes:
        name: registry key, also the preprocessing family (see ``loopml.features``).
        complexity: lower is simpler; breaks ties between equal scores.
        relative_cost: rough fit time relative to ``linear``, used to plan the time budget.
        max_rows: training rows above which the family is not tried (None: no limit).
        priors: configurations tuning tries first, before its sampler explores: settings that
            do well across many tabular data sets, so a short budget starts from good ground.
    """

    name: str
    complexity: int
    relative_cost: float
    _defaults: Callable[[TrainTask], dict[str, Any]]
    _space: Callable[[TrainTask], ParamSpace]
    _estimator: Callable[[TrainTask, dict[str, Any], int, int], Any]
    max_rows: int | None = None
    _priors: Callable[[TrainTask], list[dict[str, Any]]] | None = None

    def priors(self, task: TrainTask) -> list[dict[str, Any]]:
        """Configurations (within :meth:`search_space`) tuning tries first, best guess first."""
        return self._priors(task) if self._priors is not None else []

    def default_params(self, task: TrainTask) -> dict[str, Any]:
        """The default configuration of this family for ``task``."""
        return self._defaults(task)

    def search_space(self, task: TrainTask) -> ParamSpace:
        """The hyperparameters worth tuning for ``task`` and their ranges."""
        return self._space(task)

    def params(self, task: TrainTask, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Default parameters updated with ``overrides``.

        Raises:
            InvalidInputError: an override names a parameter the family does not have.
        """
        params = self.default_params(task)
        known = set(params) | set(self.search_space(task))
        unknown = sorted(set(overrides or {}) - known)
        if unknown:
            raise InvalidInputError(
                f"The {self.name} family has no parameter(s) {', '.join(unknown)}.",
                hint=f"Known parameters: {', '.join(sorted(known)) or 'none'}.",
            )
        params.update(overrides or {})
        return params

    def build(
        self,
        contract: DataContract,
        task: TrainTask,
        params: Mapping[str, Any] | None = None,
        seed: int = 0,
        n_jobs: int = N_JOBS,
        plan: FeaturePlan | None = None,
    ) -> Pipeline:
        """An unfitted pipeline: the family's preprocessor followed by its estimator.

        ``n_jobs`` is the number of threads of multi-threaded estimators. ``plan`` adds the
        charter's feature engineering (derived features, target encoding, selection, PCA; see
        :func:`loopml.features.feature_steps`).

        Raises:
            InvalidInputError: unknown parameter, or the family can use no feature column.
            DataError: the contract has no feature columns.
        """
        chosen = self.params(task, params)
        codes = chosen.pop(CATEGORIES, "native") == "codes"  # a preprocessing choice
        estimator = self._estimator(task, chosen, seed, n_jobs)
        steps = feature_steps(contract, self.name, plan, category_codes=codes)
        return Pipeline([*steps, ("model", estimator)])


def _is_classification(task: TrainTask) -> bool:
    return task in ("binary", "multiclass")


# -- dummy ---------------------------------------------------------------------------------------
def _dummy_defaults(task: TrainTask) -> dict[str, Any]:
    return {"strategy": "prior" if _is_classification(task) else "mean"}


def _dummy(task: TrainTask, params: dict[str, Any], seed: int, n_jobs: int) -> Any:
    if _is_classification(task):
        return DummyClassifier(random_state=seed, **params)
    return DummyRegressor(**params)


# -- linear --------------------------------------------------------------------------------------
def _linear_defaults(task: TrainTask) -> dict[str, Any]:
    if _is_classification(task):
        return {"C": 1.0, "class_weight": None, "solver": "lbfgs", "max_iter": 2000}
    return {"alpha": 1.0}


def _linear_space(task: TrainTask) -> ParamSpace:
    if _is_classification(task):
        return {
            "C": FloatRange(1e-3, 1e2, log=True),
            "class_weight": Choice((None, "balanced")),
        }
    return {"alpha": FloatRange(1e-3, 1e3, log=True)}


def _linear(task: TrainTask, params: dict[str, Any], seed: int, n_jobs: int) -> Any:
    if _is_classification(task):
        return LogisticRegression(random_state=seed, **params)
    return Ridge(**params)


# -- lightgbm ------------------------------------------------------------------------------------
def _lightgbm_defaults(task: TrainTask) -> dict[str, Any]:
    unbalance = {"is_unbalance": False} if task == "binary" else {}
    return {
        **unbalance,
        CATEGORIES: "native",
        "n_estimators": 300,
        "learning_rate": 0.05,
        "num_leaves": 31,
        "min_child_samples": 20,
        "subsample": 0.8,
        "subsample_freq": 1,
        "colsample_bytree": 0.8,
        "reg_lambda": 1.0,
    }


def _lightgbm_space(task: TrainTask) -> ParamSpace:
    space: ParamSpace = {
        "n_estimators": IntRange(100, 1000, log=True),
        "learning_rate": FloatRange(0.01, 0.3, log=True),
        "num_leaves": IntRange(7, 127, log=True),
        "min_child_samples": IntRange(5, 100, log=True),
        "subsample": FloatRange(0.5, 1.0),
        "colsample_bytree": FloatRange(0.5, 1.0),
        "reg_lambda": FloatRange(1e-3, 10.0, log=True),
        # Native categorical splits can overfit categories with many levels; codes split as
        # ordered numbers. Which wins depends on the data, so cross-validation decides.
        CATEGORIES: Choice(("native", "codes")),
    }
    if task == "binary":  # reweighting the minority class is a tuned choice, not the default
        space["is_unbalance"] = Choice((False, True))
    return space


def _lightgbm_priors(task: TrainTask) -> list[dict[str, Any]]:
    """Slower, more regularised learners than the defaults: many small steps on larger leaves
    with stronger minimum leaf sizes (categories as codes, the other choice from the defaults'),
    then a shallow, heavily subsampled variant."""
    return [
        {
            CATEGORIES: "codes",
            "n_estimators": 600,
            "learning_rate": 0.03,
            "num_leaves": 63,
            "min_child_samples": 40,
            "subsample": 0.8,
            "colsample_bytree": 0.7,
            "reg_lambda": 3.0,
        },
        {
            "n_estimators": 500,
            "learning_rate": 0.04,
            "num_leaves": 15,
            "min_child_samples": 60,
            "subsample": 0.7,
            "colsample_bytree": 0.6,
            "reg_lambda": 1.0,
        },
    ]


def _lightgbm(task: TrainTask, params: dict[str, Any], seed: int, n_jobs: int) -> Any:
    # deterministic + a fixed histogram layout: LightGBM otherwise picks row/col-wise by timing.
    fixed: dict[str, Any] = {
        "random_state": seed,
        "n_jobs": n_jobs,
        "verbose": -1,
        "deterministic": True,
        "force_col_wise": True,
    }
    if lightgbm_device() == "cuda":  # only when this build trains on a visible GPU
        fixed["device_type"] = "cuda"
    cls = LGBMClassifier if _is_classification(task) else LGBMRegressor
    return cls(**fixed, **params)


# -- random forest / extra trees -----------------------------------------------------------------
def _forest_defaults(task: TrainTask) -> dict[str, Any]:
    defaults: dict[str, Any] = {
        "n_estimators": 200,
        "max_depth": None,
        "min_samples_leaf": 1,
        "max_features": "sqrt" if _is_classification(task) else 1.0,
    }
    if _is_classification(task):
        defaults["class_weight"] = None
    return defaults


def _forest_space(task: TrainTask) -> ParamSpace:
    space: ParamSpace = {
        "n_estimators": IntRange(100, 500),
        "max_depth": Choice((None, 8, 16, 32)),
        "min_samples_leaf": IntRange(1, 20, log=True),
        "max_features": Choice(("sqrt", 0.5, 1.0)),
    }
    if _is_classification(task):
        space["class_weight"] = Choice((None, "balanced"))
    return space


def _forest_builder(classifier: type, regressor: type) -> Callable[..., Any]:
    def build(task: TrainTask, params: dict[str, Any], seed: int, n_jobs: int) -> Any:
        cls = classifier if _is_classification(task) else regressor
        return cls(random_state=seed, n_jobs=n_jobs, **params)

    return build


FAMILIES: dict[str, CandidateFamily] = {
    f.name: f
    for f in (
        CandidateFamily("dummy", 0, 0.05, _dummy_defaults, lambda task: {}, _dummy),
        CandidateFamily("linear", 1, 1.0, _linear_defaults, _linear_space, _linear),
        CandidateFamily(
            "lightgbm",
            3,
            4.0,
            _lightgbm_defaults,
            _lightgbm_space,
            _lightgbm,
            _priors=_lightgbm_priors,
        ),
        CandidateFamily(
            "hist_gradient_boosting", 3, 5.0, more.hgb_defaults, more.hgb_space, more.hgb
        ),
        CandidateFamily(
            "extra_trees",
            2,
            4.0,
            _forest_defaults,
            _forest_space,
            _forest_builder(ExtraTreesClassifier, ExtraTreesRegressor),
        ),
        CandidateFamily(
            "random_forest",
            2,
            6.0,
            _forest_defaults,
            _forest_space,
            _forest_builder(RandomForestClassifier, RandomForestRegressor),
        ),
        *(
            [CandidateFamily("xgboost", 3, 5.0, more.xgb_defaults, more.xgb_space, more.xgb)]
            if more.xgboost_installed()
            else []
        ),
        CandidateFamily(
            "mlp", 3, 6.0, more.mlp_defaults, more.mlp_space, more.mlp, more.MAX_ROWS["mlp"]
        ),
        CandidateFamily(
            "svm", 2, 8.0, more.svm_defaults, more.svm_space, more.svm, more.MAX_ROWS["svm"]
        ),
        CandidateFamily(
            "knn", 1, 1.0, more.knn_defaults, more.knn_space, more.knn, more.MAX_ROWS["knn"]
        ),
    )
}
"""Every family, in the order training tries them (baselines first, then expected value)."""

OPT_IN_FAMILIES = frozenset({"hist_gradient_boosting", "xgboost"})
"""Families trained only when named: histogram boosting and XGBoost duplicate LightGBM (the
same kind of model, at a share of the time budget that LightGBM's tuning uses better), and
histogram boosting's OpenMP threads cannot be limited per model (it slows sharply on a shared
machine). XGBoost is a family only when the optional ``xgboost`` package is installed."""

DEFAULT_FAMILIES: tuple[str, ...] = tuple(n for n in FAMILIES if n not in OPT_IN_FAMILIES)
"""The families trained when none are named."""


def get_family(name: str) -> CandidateFamily:
    """The family ``name``.

    Raises:
        InvalidInputError: no such family (the message lists them).
    """
    try:
        return FAMILIES[name]
    except KeyError:
        raise InvalidInputError(
            f"Unknown model family {name!r}.", hint=f"Choose from: {', '.join(FAMILIES)}."
        ) from None


def resolve_families(names: Sequence[str] | None) -> list[CandidateFamily]:
    """The families to train, in training order, always starting with the ``dummy`` baseline.

    Raises:
        InvalidInputError: a name is not a known family.
    """
    if isinstance(names, str):
        names = [names]
    chosen = {get_family(n).name for n in (DEFAULT_FAMILIES if names is None else names)}
    chosen.add("dummy")
    return [family for name, family in FAMILIES.items() if name in chosen]
