"""The training engine: baselines and candidates, cross-validated inside a time budget."""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import precision_recall_curve

from loopml.data._contract import DataContract
from loopml.errors import InvalidInputError, LoopmlError, TrainingError
from loopml.features import dropped_columns
from loopml.train._bundle import ModelBundle
from loopml.train._candidates import FAMILIES, N_JOBS, CandidateFamily, resolve_families
from loopml.train._metrics import Metric, TrainTask, get_metric
from loopml.train._result import CandidateResult, TrainingResult
from loopml.train._training_data import (
    CvStrategy,
    Fold,
    TrainingData,
    make_folds,
    prepare_training_data,
)

ThresholdStrategy = Literal["fixed", "max_f1"]
REFIT_FACTOR = 1.5
"""A refit on all rows costs about this many cross-validation fold fits (budget planning)."""
LATENCY_CALLS = 50
BUDGET_SKIP = "skipped: time budget"


@dataclass
class _Session:
    """Everything the candidates of one call share, and the running time estimate."""

    data: TrainingData
    contract: DataContract
    task: TrainTask
    metric: Metric
    folds: list[Fold]
    seed: int
    n_jobs: int
    deadline: float
    time_budget: float
    threshold: ThresholdStrategy
    cv_strategy: str
    constant_features: bool
    report: Callable[[str, float], None]
    fold_seconds: float | None = None  # per-fold time of the last cross-validated family
    fold_cost: float = 1.0  # that family's relative cost

    def remaining(self) -> float:
        return self.deadline - time.perf_counter()

    @property
    def n_classes(self) -> int:
        return len(self.data.classes)

    def planned_seconds(self, family: CandidateFamily) -> float | None:
        """Expected CV + refit time of ``family``, scaled from the last family's fold time."""
        if self.fold_seconds is None:
            return None
        per_fold = self.fold_seconds * family.relative_cost / self.fold_cost
        return per_fold * (len(self.folds) + REFIT_FACTOR)


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
    n_jobs: int = N_JOBS,
    on_candidate: Callable[[CandidateResult], None] | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> TrainingResult:
    """Cross-validate the dummy baseline and candidate families, refit them, pick the best.

    Families run baselines first (dummy, linear), then in order of expected value. The dummy
    always runs; any other family whose planned time does not fit the remaining ``time_budget``
    (seconds, for the whole call) is skipped with reason ``"skipped: time budget"``, and one that
    runs late stops its folds early. Each fitted family is refitted on all rows into a
    :class:`ModelBundle`. ``cv_strategy`` defaults to stratified (classification) or kfold
    (regression); ``time`` validates on later rows of the contract's time column. ``threshold``
    ``"max_f1"`` sets a binary bundle's decision threshold to the one maximising F1 on the
    out-of-fold predictions (``"fixed"``: 0.5). ``n_jobs`` is the threads per model (LightGBM
    and forests slow down sharply when threads outnumber free cores). Same inputs, ``seed`` and
    ``n_jobs`` give the same scores.

    Raises:
        InvalidInputError: unknown task, metric or family; bad ``time_budget``/``cv_folds``;
            a ``positive_class`` that is not a class; a task that does not fit the target.
        DataError: missing columns, no feature columns, one class, a class with one row, a
            non-numeric regression target.
        TrainingError: no candidate, not even the dummy baseline, could be fitted.
    """
    started = time.perf_counter()
    if not time_budget > 0:
        raise InvalidInputError(
            f"time_budget must be a positive number of seconds; got {time_budget}."
        )
    chosen_metric = get_metric(metric, task)
    family_list = resolve_families(families)
    data = prepare_training_data(frame, contract, task, positive_class)
    folds, fold_notes = make_folds(data, task, strategy=cv_strategy, n_folds=cv_folds, seed=seed)
    notes = [*data.warnings, *fold_notes, *_feature_notes(data.X)]
    session = _Session(
        data=data,
        contract=contract,
        task=task,
        metric=chosen_metric,
        folds=folds,
        seed=seed,
        n_jobs=n_jobs,
        deadline=started + time_budget,
        time_budget=time_budget,
        threshold=threshold,
        cv_strategy=cv_strategy or ("kfold" if task == "regression" else "stratified"),
        constant_features=bool(data.X.nunique(dropna=False).max() <= 1),
        report=progress or (lambda message, fraction: None),
    )
    results: list[CandidateResult] = []
    for position, family in enumerate(family_list):
        step = _progress_step(session.report, position, len(family_list))
        result = _run_candidate(session, family, step)
        results.append(result)
        if on_candidate is not None:
            on_candidate(result)
    session.report("done", 1.0)
    return _summarise(session, results, notes, time.perf_counter() - started)


def _progress_step(
    report: Callable[[str, float], None], position: int, total: int
) -> Callable[[str, float], None]:
    """Progress of one candidate (fraction of its own work) as a share of the whole call."""
    return lambda message, done: report(message, (position + done) / total)


def _feature_notes(X: pd.DataFrame) -> list[str]:
    notes = []
    if X.nunique(dropna=False).max() <= 1:
        notes.append("Every feature column is constant; only the dummy baseline was trained.")
    if X.shape[1] > X.shape[0]:
        notes.append(
            f"There are more feature columns ({X.shape[1]}) than rows ({X.shape[0]}); expect "
            "overfitting. On equal scores the simpler model is chosen."
        )
    return notes


def _skip_reason(session: _Session, family: CandidateFamily) -> str:
    """Why ``family`` should not start (empty if it may)."""
    if family.name == "dummy":
        return ""
    if session.constant_features:
        return "skipped: every feature column is constant"
    planned = session.planned_seconds(family)
    left = session.remaining()
    if left <= 0 or (planned is not None and planned > left):
        estimate = "" if planned is None else f"needs about {planned:.1f}s, "
        return f"{BUDGET_SKIP} ({estimate}{max(left, 0.0):.1f}s left)"
    return ""


def _run_candidate(
    session: _Session, family: CandidateFamily, report: Callable[[str, float], None]
) -> CandidateResult:
    params = family.default_params(session.task)
    result = CandidateResult(family=family.name, params=params)
    reason = _skip_reason(session, family)
    if reason:
        result.status, result.reason = "skipped", reason
        return result
    try:
        pipeline = family.build(
            session.contract, session.task, params, seed=session.seed, n_jobs=session.n_jobs
        )
    except LoopmlError as exc:  # the family cannot use these columns: skip it, say why
        result.status, result.reason = "skipped", f"skipped: {exc}"
        return result
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            oof = _cross_validate(session, family, pipeline, result, report)
            if result.status == "ok":
                _refit(session, pipeline, result, oof)
        except Exception as exc:  # one family's error must not end training; it is recorded
            result.status, result.reason = "failed", f"{type(exc).__name__}: {exc}"
            result.bundle = None
    result.warnings = list(dict.fromkeys(str(w.message) for w in caught))[:5]
    return result


def _predict(model: Any, X: pd.DataFrame, n_classes: int) -> np.ndarray:
    """Probabilities over all ``n_classes`` (a fold may lack a class), or regression values."""
    if n_classes == 0:
        return np.asarray(model.predict(X), dtype=float)
    proba = np.zeros((len(X), n_classes))
    proba[:, np.asarray(model.classes_, dtype=int)] = model.predict_proba(X)
    return proba


def _cross_validate(
    session: _Session,
    family: CandidateFamily,
    pipeline: Any,
    result: CandidateResult,
    report: Callable[[str, float], None],
) -> np.ndarray:
    """Fill ``result``'s fold scores; return out-of-fold predictions (NaN where not predicted)."""
    X, y, n = session.data.X, session.data.y, len(session.folds)
    oof = np.full((len(y), session.n_classes) if session.n_classes else len(y), np.nan)
    started = time.perf_counter()
    for k, (train, valid) in enumerate(session.folds):
        model = clone(pipeline).fit(X.iloc[train], y[train])
        oof[valid] = _predict(model, X.iloc[valid], session.n_classes)
        result.fold_scores.append(_score(session, y[valid], oof[valid]))
        per_fold = (time.perf_counter() - started) / (k + 1)
        report(f"{family.name}: fold {k + 1}/{n}", (k + 1) / (n + 1))
        left = session.remaining()
        if family.name != "dummy" and k + 1 < n and per_fold * (n - k - 1 + REFIT_FACTOR) > left:
            if per_fold * REFIT_FACTOR > left:
                result.status, result.reason = "skipped", f"{BUDGET_SKIP} (after {k + 1} folds)"
            else:
                result.reason = f"cross-validated on {k + 1} of {n} folds: time budget"
            break
    result.cv_seconds = time.perf_counter() - started
    session.fold_seconds, session.fold_cost = per_fold, family.relative_cost
    scores = np.asarray(result.fold_scores, dtype=float)
    if result.status == "ok" and np.isnan(scores).all():
        result.status, result.reason = "failed", f"{session.metric.name} is undefined on every fold"
    elif result.status == "ok":
        result.cv_mean, result.cv_std = float(np.nanmean(scores)), float(np.nanstd(scores))
    return oof


def _score(session: _Session, y_true: np.ndarray, y_score: np.ndarray) -> float:
    """The metric on one fold; NaN when it is undefined there (e.g. one class in the fold)."""
    try:
        return session.metric.score(y_true, y_score, positive_index=session.data.positive_index)
    except ValueError:
        return math.nan


def _refit(session: _Session, pipeline: Any, result: CandidateResult, oof: np.ndarray) -> None:
    data = session.data
    started = time.perf_counter()
    model = clone(pipeline).fit(data.X, data.y)
    result.fit_seconds = time.perf_counter() - started
    result.latency_ms_p50 = _latency_ms(model, data.X.iloc[:1], session)
    threshold, strategy = _threshold(session, oof)
    result.bundle = ModelBundle(
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
            "dropped_columns": dropped_columns(model.named_steps["preprocess"]),
            "seed": session.seed,
        },
    )


def _latency_ms(model: Any, row: pd.DataFrame, session: _Session) -> float:
    """Median time of single-row predictions (up to 50 calls, at most ~1 s)."""
    call = model.predict_proba if session.n_classes else model.predict
    call(row)  # warm-up: first calls pay one-off costs
    stop = time.perf_counter() + min(1.0, max(0.05, 0.02 * session.time_budget))
    times = []
    for _ in range(LATENCY_CALLS):
        begin = time.perf_counter()
        call(row)
        times.append(time.perf_counter() - begin)
        if time.perf_counter() > stop:
            break
    return float(np.median(times) * 1000.0)


def _threshold(session: _Session, oof: np.ndarray) -> tuple[float, str]:
    """The binary decision threshold and how it was chosen."""
    if session.task != "binary" or session.threshold == "fixed":
        return 0.5, "fixed"
    predicted = ~np.isnan(oof[:, 0])
    pos = session.data.positive_index
    truth = session.data.y[predicted] == pos
    precision, recall, thresholds = precision_recall_curve(truth, oof[predicted, pos])
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.nan_to_num(2 * precision * recall / (precision + recall))
    return float(thresholds[int(np.argmax(f1[:-1]))]), "max_f1"


def _summarise(
    session: _Session, results: list[CandidateResult], notes: list[str], seconds: float
) -> TrainingResult:
    sign = 1.0 if session.metric.greater_is_better else -1.0
    # Scores signed so that higher is better, for every ok candidate.
    scored = [(sign * r.cv_mean, r) for r in results if r.ok and r.cv_mean is not None]
    if not scored:
        reasons = "; ".join(f"{r.family}: {r.reason}" for r in results)
        raise TrainingError(
            f"No candidate could be fitted ({reasons}).",
            hint="Check the data and the contract, or give training more time.",
        )
    top = max(score for score, _ in scored)
    tied = [r for score, r in scored if math.isclose(score, top, rel_tol=1e-9, abs_tol=1e-12)]
    best = min(tied, key=lambda r: FAMILIES[r.family].complexity)
    baselines = [score for score, r in scored if r.family in ("dummy", "linear")]
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
    )
