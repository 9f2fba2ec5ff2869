"""Turning the candidates of one call into a :class:`TrainingResult` (selection and notes)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace

import numpy as np
import pandas as pd

from loopml.errors import TrainingError
from loopml.train._candidates import FAMILIES
from loopml.train._finish import ENSEMBLE
from loopml.train._noise import search_optimism, within_noise
from loopml.train._result import CandidateResult, TrainingResult
from loopml.train._self_training import SELF_TRAINING
from loopml.train._session import Session

ENSEMBLE_COMPLEXITY = 10


def feature_notes(X: pd.DataFrame) -> list[str]:
    """Warnings about the feature matrix as a whole."""
    notes = []
    if X.nunique(dropna=False).max() <= 1:
        notes.append("Every feature column is constant; only the dummy baseline was trained.")
    if X.shape[1] > X.shape[0]:
        notes.append(
            f"There are more feature columns ({X.shape[1]}) than rows ({X.shape[0]}); expect "
            "overfitting. On equal scores the simpler model is chosen."
        )
    return notes


def _complexity(result: CandidateResult) -> int:
    family = FAMILIES.get(result.family)
    return ENSEMBLE_COMPLEXITY if family is None else family.complexity


def _on_common_folds(
    best: CandidateResult, scored: list[tuple[float, CandidateResult]], sign: float
) -> CandidateResult:
    """``best``, unless it was cross-validated on fewer folds (the time budget stopped it) and
    another candidate scores better on those same folds: fold difficulty differs, so a mean
    over two folds is not comparable with a mean over five."""
    k = len(best.fold_scores)
    if k == 0:
        return best
    own = sign * float(np.nanmean(best.fold_scores))
    rivals = [
        (sign * float(np.nanmean(r.fold_scores[:k])), r)
        for _, r in scored
        if r is not best and len(r.fold_scores) > k and r.family != "dummy"
    ]
    better = [(score, r) for score, r in rivals if score > own]
    return max(better, key=lambda item: item[0])[1] if better else best


def _simplest_within_noise(
    best: CandidateResult,
    scored: list[tuple[float, CandidateResult]],
    sign: float,
    notes: list[str],
    fresh: Mapping[str, list[float]] | None = None,
) -> CandidateResult:
    """The simplest candidate (never the dummy) whose CV score is within noise of ``best``'s:
    the one-standard-error rule, so that a small dataset is not lost to an overfit booster.

    ``fresh`` holds fold scores on a second set of folds (see :mod:`loopml.train._confirm`);
    where both ``best`` and a rival have them, the rule judges those instead. New folds of the
    same rows still flatter configurations chosen on those rows, the more so the more were
    tried, so there ``best`` must lead by :func:`~loopml.train._noise.search_optimism` of its
    trial count (a blend: its most-tuned member's) standard errors rather than one.
    """
    fresh = fresh or {}
    trials = {r.family: r.n_trials for _, r in scored}
    tried = (
        max((trials.get(m, 0) for m in best.params), default=0)
        if best.family == ENSEMBLE
        else best.n_trials
    )
    allowance = search_optimism(tried)

    def close(rival: CandidateResult) -> bool:
        if best.family in fresh and rival.family in fresh:
            return within_noise(
                replace(best, fold_scores=fresh[best.family]),
                replace(rival, fold_scores=fresh[rival.family]),
                sign,
                allowance,
            )
        return within_noise(best, rival, sign)

    simpler = [
        (score, r)
        for score, r in scored
        if r.family not in ("dummy", SELF_TRAINING)
        and len(r.fold_scores) >= len(best.fold_scores)
        and _complexity(r) < _complexity(best)
        and close(r)
    ]
    if not simpler:
        return best
    _, chosen = min(simpler, key=lambda item: (_complexity(item[1]), -item[0]))
    if chosen.family in fresh and best.family in fresh:
        margin = (
            f"on a second set of folds is within {allowance:.1f} standard errors of the "
            f"fold-by-fold differences (the allowance grows with the {tried} configurations "
            f"tried for {best.family}, which flatter the best of them)"
        )
    else:
        margin = "is within one standard error of the fold-by-fold differences"
    notes.append(
        f"Chose {chosen.family} over {best.family}: its cross-validated score {margin}, and it "
        "is the simpler model."
    )
    return chosen


def summarise(
    session: Session,
    results: list[CandidateResult],
    notes: list[str],
    seconds: float,
    preferred: CandidateResult | None = None,
    fresh: Mapping[str, list[float]] | None = None,
) -> TrainingResult:
    """The result: the best ``ok`` candidate by CV score (ties to the simpler one); a simpler
    candidate within one standard error of it (paired over folds) is preferred.

    ``preferred`` (the self-trained candidate) wins when its score is at least the best one's.

    Raises:
        TrainingError: no candidate could be fitted (the message gives each one's reason).
    """
    sign = session.sign
    scored = [(sign * r.cv_mean, r) for r in results if r.ok and r.cv_mean is not None]
    if not scored:
        reasons = "; ".join(f"{r.family}: {r.reason}" for r in results)
        raise TrainingError(
            f"No candidate could be fitted ({reasons}).",
            hint="Check the data and the contract, or give training more time.",
        )
    top = max(score for score, _ in scored)
    tied = [r for score, r in scored if math.isclose(score, top, rel_tol=1e-9, abs_tol=1e-12)]
    best = _on_common_folds(min(tied, key=_complexity), scored, sign)
    top = sign * (best.cv_mean or 0.0)
    best = _simplest_within_noise(best, scored, sign, notes, fresh)
    if preferred is not None and preferred.ok and preferred.cv_mean is not None:
        if sign * preferred.cv_mean >= top - 1e-12:
            best = preferred
        else:
            notes.append(
                f"The self-trained model scored below {best.family} in cross-validation on "
                "labelled rows; the supervised model was kept."
            )
    baselines = [score for score, r in scored if r.family in ("dummy", "linear")]
    timed_out = [r for r in results if r.family != "dummy" and r.reason.startswith("skipped: time")]
    if timed_out and all(r.family == "dummy" for _, r in scored):
        notes.append(
            f"The time budget ({session.time_budget:g}s) was too small to fit any model beyond "
            "the dummy baseline, which was kept. Give training more time (--time-budget)."
        )
    return TrainingResult(
        candidates=results,
        best=best,
        baseline_score=sign * max(baselines) if baselines else None,
        metric=session.metric.name,
        greater_is_better=session.metric.greater_is_better,
        task=session.task,
        classes=list(session.data.classes),
        positive_class=session.data.positive_class,
        n_train_rows=len(session.data.y),
        dropped_target_rows=session.data.dropped_target_rows,
        cv_folds=len(session.folds),
        cv_strategy=session.cv_strategy,
        seconds=seconds,
        warnings=notes,
        trials={r.family: r.n_trials for r in results if r.n_trials},
        features=session.plan.describe() if session.plan is not None else {},
        unlabelled_rows=0 if session.data.X_unlabelled is None else len(session.data.X_unlabelled),
    )
