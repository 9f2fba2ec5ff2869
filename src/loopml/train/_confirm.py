"""A second look at a tuned winner, on fresh folds, before it displaces a simpler model.

Tuning keeps the best of many configurations scored on the same folds, so the winner's
cross-validated score is optimistic (the winner's curse): on small data, the margin by which a
tuned flexible family beats the linear baseline is often the fold noise it was selected for.
When the provisional best was tuned and the data are small, it and the simpler candidates are
cross-validated again on folds drawn with another seed, and the one-standard-error rule of
:mod:`loopml.train._summary` judges those fold scores instead, which no trial was chosen on.
A blend is looked at again too: its weights were chosen on the first folds' out-of-fold
predictions, so it is refitted, with those weights, on the fresh folds.
"""

from __future__ import annotations

from collections.abc import Sequence

from loopml.train._candidates import FAMILIES
from loopml.train._ensemble import blend_of
from loopml.train._finish import ENSEMBLE, FamilyState
from loopml.train._fitting import run_folds
from loopml.train._result import CandidateResult
from loopml.train._session import Session
from loopml.train._training_data import CvStrategy, make_folds

CONFIRM_MAX_ROWS = 20_000
"""Above this many rows fold noise is small next to real differences; no second look."""
CONFIRM_SHARE = 0.05
"""The second look may take this share of the time budget even when tuning used it all."""


def fresh_fold_scores(
    session: Session,
    states: Sequence[FamilyState],
    results: Sequence[CandidateResult],
    cv_strategy: CvStrategy | None,
) -> dict[str, list[float]]:
    """Fold scores, on folds drawn with ``session.seed + 1``, of the provisional best (when it
    was tuned) and of every simpler refitted candidate; empty when no second look is due
    (best not tuned, large data, time-ordered folds, or no time left for it).

    With a fixed trial count (``session.replay``) the second look never depends on the clock.
    """
    ok = [r for r in results if r.ok and r.cv_mean is not None and r.family in FAMILIES]
    if not ok or cv_strategy == "time" or len(session.data.y) > CONFIRM_MAX_ROWS:
        return {}
    best = max(ok, key=lambda r: session.sign * (r.cv_mean or 0.0))
    if best.n_trials == 0:
        return {}
    complexity = FAMILIES[best.family].complexity
    simpler = [
        r
        for r in ok
        if r.family != "dummy" and r.bundle is not None
        if FAMILIES[r.family].complexity < complexity
    ]
    by_family = {state.family.name: state for state in states}
    blends = [
        r
        for r in results
        if r.family == ENSEMBLE and r.ok and r.cv_mean is not None
        if all(member in by_family for member in r.params)
    ]
    contenders = [best, *simpler]
    if len(contenders) == 1 and not blends:
        return {}
    cost = sum(r.cv_seconds for r in contenders)
    cost += sum(by_family[m].result.cv_seconds for r in blends for m in r.params)
    if not session.replay and cost > max(session.remaining(), CONFIRM_SHARE * session.time_budget):
        return {}
    folds, _ = make_folds(
        session.data,
        session.task,
        strategy=cv_strategy,
        n_folds=len(session.folds),
        seed=session.seed + 1,
    )
    models = {r.family: session.build(by_family[r.family].family, r.params) for r in contenders}
    for result in blends:
        members = [by_family[m] for m in result.params]
        models[result.family] = blend_of(
            session.task,
            [session.build(m.family, m.result.params) for m in members],
            [float(result.params[m.family.name]) for m in members],
        )
    data = session.data
    return {
        family: run_folds(
            model, data.X, data.y, folds, session.n_classes, session.score, _every_fold
        ).fold_scores
        for family, model in models.items()
    }


def _every_fold(k: int, scores: list[float], per_fold: float) -> None:
    """The second look runs every fold."""
