"""The training engine: baselines, candidates, tuning, calibration and blending in one budget.

The phases of :func:`train_candidates`, all inside one time budget:

1. every family is cross-validated with its default configuration, baselines first (when
   tuning, the defaults must fit in half the budget);
2. with ``tune``, the best (up to three) families are tuned with Optuna, the budget left
   (minus what the refits will need) shared 3:2:1 between them (all of it to the best family
   when its share would not allow a few trials);
3. each fitted family is calibrated (binary, when it lowers log loss), given its decision
   threshold, refitted on all rows and timed; one over the latency budget is excluded;
4. with ``ensemble``, the best families are blended when that beats the best one by a margin;
5. with ``self_training`` (classification), the best family is self-trained with the rows whose
   target is missing and competes as the ``self_training`` candidate (chosen when its
   cross-validated score on labelled rows is at least the best one's).

The charter's feature engineering (``features``: derived features, target encoding, selection,
PCA) is planned once (:func:`loopml.features.plan_features`) and built into every pipeline.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from loopml.charter._model import FeaturesSpec
from loopml.data._contract import DataContract
from loopml.errors import InvalidInputError, LoopmlError
from loopml.features import plan_features
from loopml.train._candidates import N_JOBS, CandidateFamily, resolve_families
from loopml.train._confirm import fresh_fold_scores
from loopml.train._decision import Costs, ThresholdStrategy
from loopml.train._finish import (
    FamilyState,
    apply_evaluation,
    blend,
    calibrate,
    exceeds_latency,
    refit,
)
from loopml.train._fitting import StopFolds
from loopml.train._metrics import TrainTask, get_metric
from loopml.train._result import CandidateResult, TrainingResult
from loopml.train._self_training import self_train
from loopml.train._session import REFIT_FACTOR, Session
from loopml.train._summary import feature_notes, summarise
from loopml.train._training_data import CvStrategy, make_folds, prepare_training_data
from loopml.train._tuning import SamplerName, TrialRecord
from loopml.train._tuning_phase import tune_best

BUDGET_SKIP = "skipped: time budget"
BASELINES = ("dummy", "linear")
SELF_TRAINING_SHARE = 0.25
"""With self-training, the other phases must end within the rest of the budget."""
EXPLORE_SHARE = 0.5
"""When tuning, default configurations (beyond the baselines) must fit in this share of the
budget, so that tuning gets the rest."""


def train_candidates(
    frame: pd.DataFrame,
    contract: DataContract,
    *,
    task: TrainTask,
    metric: str | None = None,
    families: Sequence[str] | None = None,
    time_budget: float = 120.0,
    cv_folds: int = 5,
    seed: int = 0,
    positive_class: Any = None,
    cv_strategy: CvStrategy | None = None,
    threshold: ThresholdStrategy = "fixed",
    costs: Costs | None = None,
    calibrate_probabilities: bool = False,
    tune: bool = False,
    sampler: SamplerName = "tpe",
    trials: int | Mapping[str, int] | None = None,
    ensemble: bool = False,
    max_latency_ms: float | None = None,
    features: FeaturesSpec | None = None,
    self_training: bool = False,
    n_jobs: int = N_JOBS,
    on_candidate: Callable[[CandidateResult], None] | None = None,
    on_trial: Callable[[TrialRecord], None] | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> TrainingResult:
    """Cross-validate the dummy baseline and candidate families, tune, refit, pick the best.

    ``time_budget`` (seconds) bounds the whole call: a family whose planned time does not fit is
    skipped (``"skipped: time budget"``), one that runs late stops its folds early, and tuning
    stops in time for the refits. ``tune`` searches each of the best families' space with the
    ``sampler`` (``tpe``, ``random`` or ``grid``, seeded), pruning poor trials on early folds;
    ``trials`` (a count per family, or a mapping family -> count as in
    :attr:`TrainingResult.trials`) fixes the number of trials instead, which makes the search
    reproducible (same seed and trials -> same result) at the cost of the budget.

    Binary tasks: ``threshold`` (``fixed`` 0.5, ``f1``/``max_f1``, ``youden``, ``cost`` with
    ``costs``, ``auto``) is chosen on out-of-fold predictions; ``calibrate_probabilities`` adds a
    sigmoid or isotonic calibration when it lowers cross-validated log loss. ``ensemble`` blends
    the best families when that beats the best one. ``max_latency_ms`` excludes a candidate
    whose single-row p99 latency exceeds it. ``features`` is the charter's feature engineering
    (default: its defaults, i.e. target encoding of high-cardinality columns). With
    ``self_training`` (classification), rows without a target are kept and the best family is
    also self-trained with them (see :mod:`loopml.train._self_training`). ``cv_strategy``
    defaults to stratified (classification) or kfold (regression). ``n_jobs`` is the threads
    per model. Same inputs, ``seed``, ``n_jobs`` and (when tuning) ``trials`` give the same
    scores. ``on_candidate`` is called with each final candidate, ``on_trial`` with each tuning
    trial.

    Raises:
        InvalidInputError: unknown task, metric, family, sampler or threshold strategy; an
            invalid derived feature; bad
            ``time_budget``/``cv_folds``/``trials``; a ``positive_class`` that is not a class; a
            task that does not fit the target; ``cost`` threshold without ``costs``.
        DataError: missing columns, no feature columns, one class, a class with one row, a
            non-numeric regression target.
        TrainingError: no candidate, not even the dummy baseline, could be fitted.
    """
    started = time.perf_counter()
    if not time_budget > 0:
        raise InvalidInputError(
            f"time_budget must be a positive number of seconds; got {time_budget}."
        )
    _check_options(threshold, costs, trials)
    chosen_metric = get_metric(metric, task)
    family_list = resolve_families(families)
    data = prepare_training_data(
        frame, contract, task, positive_class, keep_unlabelled=self_training
    )
    plan = plan_features(features, contract, data.X, task=task, seed=seed)
    folds, fold_notes = make_folds(data, task, strategy=cv_strategy, n_folds=cv_folds, seed=seed)
    session = Session(
        data=data,
        contract=contract,
        task=task,
        metric=chosen_metric,
        folds=folds,
        seed=seed,
        n_jobs=n_jobs,
        deadline=started + time_budget,
        time_budget=time_budget,
        cv_strategy=cv_strategy or ("kfold" if task == "regression" else "stratified"),
        report=progress or (lambda message, fraction: None),
        threshold=threshold,
        costs=costs,
        calibrate=calibrate_probabilities,
        tune=tune,
        sampler=sampler,
        trials=dict(trials) if isinstance(trials, Mapping) else trials,
        ensemble=ensemble,
        max_latency_ms=max_latency_ms,
        plan=plan,
    )
    if data.X_unlabelled is not None:  # self-training runs last: keep its share of the budget
        session.deadline = started + (1 - SELF_TRAINING_SHARE) * time_budget
    notes = [*data.warnings, *fold_notes, *feature_notes(data.X), *plan.notes]
    constant = bool(data.X.nunique(dropna=False).max() <= 1)
    explore_end = 0.4 if tune else 0.8
    states: list[FamilyState] = []
    for position, family in enumerate(family_list):
        session.report(
            f"{family.name}: cross-validating", explore_end * position / len(family_list)
        )
        reserve = any(s.result.ok and s.family.name not in BASELINES for s in states)
        tried = any(s.result.cv_seconds > 0 and s.family.name not in BASELINES for s in states)
        states.append(_explore(session, family, constant, reserve, estimate=tried))
    if tune:
        tune_best(session, states, on_trial, explore_end)
    for state in states:  # refits use one thread too while the cores are busy
        if state.pipeline is not None:
            session.use_session_threads(state.pipeline)
    notes.extend(_finish_all(session, states, explore_end if not tune else 0.85))
    results = [s.result for s in states]
    if ensemble and (session.replay or session.remaining() > 0):
        candidate, note = blend(session, states)
        if candidate is not None and not exceeds_latency(session, candidate):
            results.append(candidate)
        if note:
            notes.append(note)
    preferred = None
    if data.X_unlabelled is not None:
        session.deadline = started + time_budget
        session.report("self-training", 0.97)
        preferred, note = self_train(session, states)
        if preferred is not None and not exceeds_latency(session, preferred):
            results.append(preferred)
        if note:
            notes.append(note)
    for result in results:
        if on_candidate is not None:
            on_candidate(result)
    fresh = fresh_fold_scores(session, states, results, cv_strategy) if tune else {}
    session.report("done", 1.0)
    seconds = time.perf_counter() - started
    return summarise(session, results, notes, seconds, preferred, fresh)


def _check_options(
    threshold: str, costs: Costs | None, trials: int | Mapping[str, int] | None
) -> None:
    if threshold == "cost" and costs is None:
        raise InvalidInputError(
            "The 'cost' threshold needs the costs of a false positive and a false negative.",
            hint="Pass costs=Costs(false_positive=…, false_negative=…), or set training.costs.",
        )
    counts = trials.values() if isinstance(trials, Mapping) else [trials]
    if any(c is not None and (not isinstance(c, int) or c < 0) for c in counts):
        raise InvalidInputError(
            f"trials must be a non-negative whole number of trials per family; got {trials}."
        )


def _skip_reason(
    session: Session,
    family: CandidateFamily,
    constant: bool,
    reserve: bool = True,
    estimate: bool = True,
) -> str:
    """Why ``family`` should not start (empty if it may). ``reserve``: keep the tuning share of
    the budget free (not for the first family beyond the baselines: tuning the linear model
    is no reason to leave the data's most promising family untried). ``estimate``: judge the
    family by the time of the last one scaled by relative costs (not for the first family
    beyond the baselines: relative costs vary many times between data sets, and its own
    folds stop it when it runs late)."""
    if family.name == "dummy":
        return ""
    if constant:
        return "skipped: every feature column is constant"
    rows = len(session.data.y)
    if family.max_rows is not None and rows > family.max_rows:
        return f"skipped: {family.name} is only tried up to {family.max_rows} rows ({rows} here)"
    if session.fold_seconds is None or not estimate:
        planned = None
    else:
        per_fold = session.fold_seconds * family.relative_cost / session.fold_cost
        planned = per_fold * (len(session.folds) + REFIT_FACTOR)
    left = session.remaining()
    allowed = _allowed(session, family, reserve)
    if left <= 0 or (planned is not None and planned > allowed):
        needs = "" if planned is None else f"needs about {planned:.1f}s, "
        return f"{BUDGET_SKIP} ({needs}{max(left, 0.0):.1f}s left)"
    return ""


def _allowed(session: Session, family: CandidateFamily, reserve: bool) -> float:
    """Seconds ``family``'s default configuration may use from now (``_skip_reason``)."""
    allowed = session.remaining()
    if session.tune and family.name != "linear" and reserve:
        allowed -= (1 - EXPLORE_SHARE) * session.time_budget
    return allowed


def _explore(
    session: Session,
    family: CandidateFamily,
    constant: bool,
    reserve: bool = True,
    estimate: bool = True,
) -> FamilyState:
    """Cross-validate the family's default configuration (see ``_skip_reason``)."""
    params = family.default_params(session.task)
    state = FamilyState(family, CandidateResult(family=family.name, params=params))
    result = state.result
    reason = _skip_reason(session, family, constant, reserve, estimate)
    if reason:
        result.status, result.reason = "skipped", reason
        return state
    try:
        state.pipeline = session.build(family, params)
    except LoopmlError as exc:  # the family cannot use these columns: skip it, say why
        result.status, result.reason = "skipped", f"skipped: {exc}"
        return state
    n = len(session.folds)

    def after_fold(k: int, scores: list[float], per_fold: float) -> None:
        left = session.remaining()
        needed = per_fold * (n - k - 1 + REFIT_FACTOR)
        if family.name == "dummy" or k + 1 == n:
            return
        if left >= needed > _allowed(session, family, reserve):
            # Slower than planned: a score on a few folds is too noisy to compete, so the
            # family makes way for tuning rather than eat its share of the budget.
            result.status, result.reason = "skipped", f"{BUDGET_SKIP} (after {k + 1} folds)"
            raise StopFolds
        if needed <= left:
            return
        if per_fold * REFIT_FACTOR > left:
            result.status, result.reason = "skipped", f"{BUDGET_SKIP} (after {k + 1} folds)"
        else:
            result.reason = f"cross-validated on {k + 1} of {n} folds: time budget"
        raise StopFolds

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            started = time.perf_counter()
            evaluation = session.evaluate(state.pipeline, after_fold)
            result.cv_seconds = time.perf_counter() - started
            session.fold_seconds, session.fold_cost = evaluation.fold_seconds, family.relative_cost
            if result.status == "ok":
                apply_evaluation(session, state, evaluation)
        except Exception as exc:  # one family's error must not end training; it is recorded
            result.status, result.reason = "failed", f"{type(exc).__name__}: {exc}"
    result.warnings = list(dict.fromkeys(str(w.message) for w in caught))[:5]
    return state


def _finish_all(session: Session, states: list[FamilyState], start: float) -> list[str]:
    """Calibrate, refit and time every fitted family (baselines first, then best first)."""
    ok = [s for s in states if s.result.ok]
    baselines = [s for s in ok if s.family.name in ("dummy", "linear")]
    others = sorted(
        (s for s in ok if s not in baselines),
        key=lambda s: session.sign * (s.result.cv_mean or -math.inf),
        reverse=True,
    )
    notes: list[str] = []
    # The baselines and the best cross-validated family are always refitted: dropping them for
    # lack of time would throw the whole search away (and overruns the budget by one refit at
    # most); other families are refitted only while time remains.
    essential = {id(s) for s in [*baselines, *others[:1]]}
    for i, state in enumerate([*baselines, *others]):
        session.report(f"{state.family.name}: refitting", start + (0.95 - start) * i / len(ok))
        assert state.evaluation is not None
        needed = state.evaluation.fold_seconds * REFIT_FACTOR
        if id(state) not in essential and not session.replay and needed > session.remaining():
            state.result.status, state.result.bundle = "skipped", None
            state.result.reason = f"{BUDGET_SKIP} (no time left to refit)"
            continue
        try:
            if session.calibrate and session.task == "binary" and state.family.name != "dummy":
                calibrate(session, state)
            refit(session, state)
        except Exception as exc:  # one family's error must not end training; it is recorded
            state.result.status, state.result.reason = "failed", f"{type(exc).__name__}: {exc}"
            state.result.bundle = None
            continue
        if exceeds_latency(session, state.result):
            notes.append(f"{state.family.name} was excluded: {state.result.reason[9:]}.")
    return notes
