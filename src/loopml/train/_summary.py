"""Turning the candidates of one call into a :class:`TrainingResult` (selection and notes)."""

from __future__ import annotations

import math

import pandas as pd

from loopml.errors import TrainingError
from loopml.train._candidates import FAMILIES
from loopml.train._result import CandidateResult, TrainingResult
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


def summarise(
    session: Session, results: list[CandidateResult], notes: list[str], seconds: float
) -> TrainingResult:
    """The result: the best ``ok`` candidate by CV score (ties to the simpler one).

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
    best = min(tied, key=_complexity)
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
    )
