"""Phase 2 of training: tuning the best families inside the time budget that is left."""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from loopml.train._finish import FamilyState, apply_evaluation
from loopml.train._session import REFIT_FACTOR, Session
from loopml.train._tuning import Evaluation, TrialRecord, tune

TUNED_FAMILIES = (3.0, 2.0, 1.0)
"""Budget weights of the best, second and third family when tuning."""
CLEAR_GAP = 4.0
"""A family this many standard errors behind the best one is not tuned under a time budget."""
MIN_TRIALS = 5
"""When its share allows fewer trials than this, the best family gets all the tuning time."""


def _clearly_worse(best: FamilyState, other: FamilyState, sign: float) -> bool:
    """Whether ``other`` trails ``best`` by more than :data:`CLEAR_GAP` standard errors of their
    paired fold differences: tuning rarely closes such a gap, so its time goes to the others."""
    a = np.asarray(best.result.fold_scores, dtype=float)
    b = np.asarray(other.result.fold_scores, dtype=float)
    if other is best or len(a) != len(b) or len(a) < 3:
        return False
    differences = sign * (a - b)
    if not np.isfinite(differences).all():
        return False
    error = float(differences.std(ddof=1)) / math.sqrt(len(differences))
    return float(differences.mean()) > CLEAR_GAP * max(error, 1e-12)


def _refit_reserve(session: Session, states: list[FamilyState]) -> float:
    """Seconds the refits of every fitted family will need (plus latency timing)."""
    return sum(
        s.evaluation.fold_seconds * REFIT_FACTOR + 0.1
        for s in states
        if s.result.ok and s.evaluation is not None
    )


def tune_best(
    session: Session,
    states: list[FamilyState],
    on_trial: Callable[[TrialRecord], None] | None,
    start: float,
) -> None:
    """Tune the best families' hyperparameters, sharing the time left between them."""
    tunable = [
        s
        for s in states
        if s.complete and s.family.name != "dummy" and s.family.search_space(session.task)
    ]
    if isinstance(session.trials, dict):
        tunable = [s for s in tunable if session.trials_for(s.family.name)]
    tunable.sort(key=lambda s: session.sign * (s.result.cv_mean or 0.0), reverse=True)
    if session.trials is None and tunable:  # under a time budget, only contenders are tuned
        tunable = [s for s in tunable if not _clearly_worse(tunable[0], s, session.sign)]
    tunable = tunable[: len(TUNED_FAMILIES)]
    weights = TUNED_FAMILIES[: len(tunable)]
    n = len(session.folds)
    for i, state in enumerate(tunable):
        assert state.evaluation is not None
        session.report(f"{state.family.name}: tuning", start + (0.85 - start) * i / len(tunable))
        n_trials = session.trials_for(state.family.name)
        deadline = None
        if n_trials is None:
            tune_end = session.deadline - _refit_reserve(session, states)
            now = time.perf_counter()
            deadline = now + (tune_end - now) * weights[i] / sum(weights[i:])
            trial_seconds = state.evaluation.fold_seconds * n
            if deadline - now < MIN_TRIALS * trial_seconds and i == 0:
                deadline = tune_end  # too little for the best family: it gets all the time left
            if deadline - now < trial_seconds:
                continue
        family = state.family

        def evaluate(params: dict[str, Any], after_fold: Any, family: Any = family) -> Evaluation:
            return session.evaluate(session.build(family, params), after_fold)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outcome = tune(
                family.name,
                family.search_space(session.task),
                state.result.params,
                state.evaluation,
                evaluate,
                sign=session.sign,
                n_folds=n,
                sampler=session.sampler,
                seed=session.seed,
                n_trials=n_trials,
                deadline=deadline,
                on_trial=on_trial,
                priors=family.priors(session.task),
            )
        state.result.n_trials = outcome.n_trials
        state.result.params = outcome.params
        state.pipeline = session.build(family, outcome.params)
        apply_evaluation(session, state, outcome.evaluation)
