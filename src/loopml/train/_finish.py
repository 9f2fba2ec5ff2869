"""The last steps of a candidate: calibration, decision threshold, refit, latency, blending.

Everything here works from the out-of-fold predictions cross-validation left behind, so the
choices (calibration method, threshold, blend weights) never see a row the model was fitted on.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import clone

from loopml.features import dropped_columns, pca_report, selection_report
from loopml.train._bundle import ModelBundle
from loopml.train._candidates import CandidateFamily
from loopml.train._decision import (
    CalibratedModel,
    ProbabilityCalibrator,
    choose_calibration,
    choose_threshold,
)
from loopml.train._ensemble import blend_of, select_weights
from loopml.train._fitting import latency_ms
from loopml.train._noise import within_noise
from loopml.train._result import CandidateResult
from loopml.train._session import Session
from loopml.train._tuning import Evaluation

ENSEMBLE_MEMBERS = 3
ENSEMBLE_MARGIN = 5e-4
"""A blend is kept only when its CV score beats the best single candidate by this much (and by
more than one standard error of the paired fold differences)."""
RANK_TOLERANCE = 1e-4
"""Calibration may not lower the primary metric of the out-of-fold predictions by more."""

ENSEMBLE = "ensemble"
"""The family name of a blend of candidates (its params: each member family's weight)."""


@dataclass
class FamilyState:
    """A family on its way through training: its result so far and its best configuration."""

    family: CandidateFamily
    result: CandidateResult
    pipeline: Any = None
    evaluation: Evaluation | None = None
    calibration: str | None = None

    @property
    def complete(self) -> bool:
        """Cross-validated on every fold (out-of-fold predictions for every validation row)."""
        return self.result.ok and not self.result.reason


def apply_evaluation(session: Session, state: FamilyState, evaluation: Evaluation) -> None:
    """Record ``evaluation``'s fold scores on the state's result (failed if all undefined)."""
    state.evaluation = evaluation
    result = state.result
    result.fold_scores = list(evaluation.fold_scores)
    scores = np.asarray(result.fold_scores, dtype=float)
    if np.isnan(scores).all():
        result.status, result.reason = "failed", f"{session.metric.name} is undefined on every fold"
        result.cv_mean = result.cv_std = None
    else:
        result.cv_mean, result.cv_std = float(np.nanmean(scores)), float(np.nanstd(scores))


def predicted_rows(oof: np.ndarray) -> np.ndarray:
    return ~np.isnan(oof if oof.ndim == 1 else oof[:, 0])


def fold_scores(session: Session, oof: np.ndarray) -> list[float]:
    """The metric of out-of-fold predictions on each fold's validation rows."""
    return [
        session.score(session.data.y[valid], oof[valid])
        for _, valid in session.folds
        if predicted_rows(oof[valid]).all()
    ]


def calibrate(session: Session, state: FamilyState) -> None:
    """Binary only: pick sigmoid / isotonic / none by cross-validated log loss (see _decision)."""
    assert state.evaluation is not None
    oof, pos = state.evaluation.oof, session.data.positive_index
    rows = predicted_rows(oof)
    truth = session.data.y[rows] == pos
    y = session.data.y[rows]
    raw = session.overall(y, oof[rows])

    def keeps_ranking(calibrated: np.ndarray) -> bool:
        return session.overall(y, _binary(calibrated, pos)) >= raw - RANK_TOLERANCE

    method, calibrated, _ = choose_calibration(oof[rows, pos], truth, session.seed, keeps_ranking)
    if method is None:
        return
    new = oof.copy()
    new[rows] = _binary(calibrated, pos)
    state.calibration = method
    apply_evaluation(
        session,
        state,
        Evaluation(fold_scores(session, new), new, state.evaluation.fold_seconds),
    )


def _binary(positive: np.ndarray, pos: int) -> np.ndarray:
    out = np.empty((len(positive), 2))
    out[:, pos], out[:, 1 - pos] = positive, 1 - positive
    return out


def refit(session: Session, state: FamilyState) -> None:
    """Refit on all rows into a bundle (calibrated, with its threshold), measure latency."""
    data, result = session.data, state.result
    assert state.evaluation is not None
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model: Any = clone(state.pipeline).fit(data.X, data.y)
    result.warnings = list(dict.fromkeys([*result.warnings, *(str(w.message) for w in caught)]))
    result.warnings = result.warnings[:5]
    result.fit_seconds = time.perf_counter() - started
    preprocess = model.named_steps["preprocess"]
    if state.calibration is not None:
        pos, oof = data.positive_index, state.evaluation.oof
        rows = predicted_rows(oof)
        calibrator = ProbabilityCalibrator(state.calibration)  # type: ignore[arg-type]
        calibrator.fit(oof[rows, pos], data.y[rows] == pos)
        model = CalibratedModel(model, calibrator, pos)
    result.features = {"dropped": selection_report(model), "pca": pca_report(model)}
    extra = {
        "dropped_columns": dropped_columns(preprocess),
        "calibration": state.calibration,
        "feature_selection": result.features["dropped"],
        "pca": result.features["pca"],
    }
    result.bundle = make_bundle(session, result, model, state.evaluation.oof, extra)


def make_bundle(
    session: Session,
    result: CandidateResult,
    model: Any,
    oof: np.ndarray,
    extra: dict[str, Any],
) -> ModelBundle:
    """The bundle of a refitted ``model``: threshold from ``oof``, latency, metadata.

    The saved model gets the session's ``n_jobs`` back: a refit on one thread because the cores
    were busy must not leave every later evaluation, monitoring or scoring job on one thread.
    """
    data = session.data
    result.latency_ms_p50, result.latency_ms_p99 = latency_ms(
        model, data.X.iloc[:1], session.n_classes, min(1.0, max(0.05, 0.02 * session.time_budget))
    )
    restore_threads(model, session.n_jobs)
    threshold, strategy = 0.5, "fixed"
    if session.task == "binary":
        rows = predicted_rows(oof)
        pos = data.positive_index
        threshold, strategy = choose_threshold(
            session.threshold, data.y[rows] == pos, oof[rows, pos], session.costs
        )
    return ModelBundle(
        pipeline=model,
        contract=session.contract,
        task=session.task,
        classes=list(data.classes),
        positive_class=data.positive_class,
        threshold=threshold,
        family=result.family,
        metadata={
            "params": dict(result.params),
            "metric": session.metric.name,
            "cv_strategy": session.cv_strategy,
            "fold_scores": list(result.fold_scores),
            "cv_mean": result.cv_mean,
            "cv_std": result.cv_std,
            "n_train_rows": len(data.y),
            "threshold_strategy": strategy,
            "trials": result.n_trials,
            "seed": session.seed,
            **extra,
        },
    )


def restore_threads(model: Any, n_jobs: int) -> None:
    """Set the threads of every fitted estimator in ``model`` that has them to ``n_jobs`` (in
    place): the final step of each pipeline, inside calibrated models and blends."""
    for inner in ("model", "members"):
        nested = getattr(model, inner, None)
        for part in nested if isinstance(nested, list) else [nested]:
            if part is not None and part is not model:
                restore_threads(part, n_jobs)
    steps = getattr(model, "steps", None)
    estimator = steps[-1][1] if steps else model
    threads = getattr(estimator, "n_jobs", None)
    if isinstance(threads, int) and threads != n_jobs and hasattr(estimator, "set_params"):
        estimator.set_params(n_jobs=n_jobs)


def exceeds_latency(session: Session, result: CandidateResult) -> bool:
    """Exclude ``result`` (status skipped, no bundle) when its p99 latency is over budget."""
    limit, p99 = session.max_latency_ms, result.latency_ms_p99
    if limit is None or p99 is None or p99 <= limit or result.family == "dummy":
        return False
    result.status, result.bundle = "skipped", None
    result.reason = f"skipped: single-row latency p99 {p99:.2f} ms exceeds the {limit:g} ms budget"
    return True


def blend(session: Session, states: list[FamilyState]) -> tuple[CandidateResult | None, str]:
    """A blend of the best complete candidates, if it beats the best by the margin; and a note."""
    members = [
        s for s in states if s.complete and s.result.bundle is not None and s.family.name != "dummy"
    ]
    members.sort(key=lambda s: session.sign * (s.result.cv_mean or 0.0), reverse=True)
    members = members[:ENSEMBLE_MEMBERS]
    if len(members) < 2:
        return None, ""
    oofs = [s.evaluation.oof for s in members if s.evaluation is not None]
    rows = np.logical_and.reduce([predicted_rows(o) for o in oofs])
    y = session.data.y[rows]
    weights, _ = select_weights([o[rows] for o in oofs], lambda pred: session.overall(y, pred))
    blended = sum(w * o for w, o in zip(weights, oofs, strict=True))
    assert isinstance(blended, np.ndarray)
    scores = fold_scores(session, blended)
    best = members[0].result
    mean = float(np.nanmean(scores))
    names = "+".join(s.family.name for s, w in zip(members, weights, strict=True) if w > 0)
    used = [(s, float(w)) for s, w in zip(members, weights, strict=True) if w > 0]
    result = CandidateResult(family=ENSEMBLE, params={s.family.name: w for s, w in used})
    result.fold_scores, result.cv_mean = scores, mean
    result.cv_std = float(np.nanstd(scores))
    # The weights were chosen on these very out-of-fold predictions, so a lead within the
    # folds' noise is no evidence: the blend must beat its best member by more than one
    # standard error of the fold-by-fold differences (and by the margin).
    gain = session.sign * (mean - (best.cv_mean or 0.0))
    if len(used) < 2 or gain < ENSEMBLE_MARGIN or within_noise(result, best, session.sign):
        return None, (
            f"A blend of {'+'.join(s.family.name for s in members)} did not beat {best.family} "
            f"by more than the noise of the cross-validation folds (and {ENSEMBLE_MARGIN} "
            f"{session.metric.name}); not kept."
        )
    result.fit_seconds = sum(s.result.fit_seconds for s, _ in used)
    pipelines = [s.result.bundle.pipeline for s, _ in used if s.result.bundle is not None]
    model = blend_of(session.task, pipelines, [w for _, w in used])
    result.bundle = make_bundle(session, result, model, blended, {"members": names})
    return result, f"Blended {names} (weights {', '.join(f'{w:.2f}' for _, w in used)})."
