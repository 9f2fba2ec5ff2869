"""Hyperparameter tuning of one family with Optuna, inside a deadline.

The family's default configuration (already cross-validated) is added to the study as its first
trial, so tuning starts informed and never ends worse than the defaults. Each trial
cross-validates one configuration and reports the running mean score after every fold; Optuna's
``MedianPruner`` stops a trial whose early folds score below the median of earlier trials at the
same fold. With ``n_trials`` the study runs exactly that many trials (reproducible with the same
seed); without, it runs until the deadline, or until ``patience`` trials in a row bring no
improvement.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import optuna

from loopml.errors import InvalidInputError
from loopml.train._space import ParamSpace, contains, distributions, grid, suggest

SamplerName = Literal["tpe", "random", "grid"]
SAMPLERS: tuple[str, ...] = ("tpe", "random", "grid")
PATIENCE = 30
"""A time-budgeted study stops after this many trials in a row without improvement."""

AfterFold = Callable[[int, list[float], float], None]
"""Called after fold ``k`` with the fold scores so far and the mean seconds per fold; may raise
``optuna.TrialPruned`` to stop the trial."""


@dataclass
class Evaluation:
    """One configuration's cross-validation: fold scores, out-of-fold predictions, fold time."""

    fold_scores: list[float]
    oof: np.ndarray
    fold_seconds: float


Evaluate = Callable[[dict[str, Any], AfterFold], Evaluation]


@dataclass
class TrialRecord:
    """One tuning trial, as reported to ``on_trial`` (and logged as a child run)."""

    family: str
    number: int
    params: dict[str, Any]
    state: Literal["complete", "pruned", "failed"]
    score: float | None
    fold_scores: list[float] = field(default_factory=list)
    seconds: float = 0.0
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        finite = [s if math.isfinite(s) else None for s in self.fold_scores]
        score = self.score if self.score is not None and math.isfinite(self.score) else None
        return {
            "family": self.family,
            "number": self.number,
            "state": self.state,
            "score": score,
            "fold_scores": finite,
            "seconds": round(self.seconds, 4),
            "reason": self.reason,
            "params": dict(self.params),
        }


@dataclass
class TuningOutcome:
    """The best configuration found and how many trials were run (the default one excluded)."""

    params: dict[str, Any]
    evaluation: Evaluation
    n_trials: int


def parse_trials(text: str | None) -> int | dict[str, int] | None:
    """A trial count as a person writes it: ``N`` (every tuned family) or ``FAMILY=N,…``.

    Raises:
        InvalidInputError: anything else, or a negative count.
    """
    if text is None or not text.strip():
        return None
    try:
        if "=" not in text:
            counts: int | dict[str, int] = int(text)
        else:
            pairs = (item.split("=", 1) for item in text.split(",") if item.strip())
            counts = {name.strip(): int(value) for name, value in pairs}
    except ValueError:
        counts = -1
    values = counts.values() if isinstance(counts, dict) else [counts]
    if any(v < 0 for v in values):
        raise InvalidInputError(
            f"Cannot read the trial count {text!r}.",
            hint="Give a whole number (e.g. 20) or counts per family (e.g. lightgbm=12,linear=8).",
        )
    return counts


def make_sampler(name: SamplerName, space: ParamSpace, seed: int) -> optuna.samplers.BaseSampler:
    """A seeded Optuna sampler: ``tpe`` (default), ``random`` or ``grid`` (see ``_space.grid``).

    Raises:
        InvalidInputError: an unknown sampler name.
    """
    if name == "tpe":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.TPESampler(seed=seed, multivariate=True, n_startup_trials=8)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "grid":
        return optuna.samplers.GridSampler(grid(space), seed=seed)
    raise InvalidInputError(
        f"Unknown sampler {name!r}.", hint=f"Choose one of: {', '.join(SAMPLERS)}."
    )


def signed_mean(scores: list[float], sign: float) -> float:
    """``sign`` times the mean of the defined scores (NaN when none is)."""
    values = np.asarray(scores, dtype=float)
    values = values[~np.isnan(values)]
    return float(sign * values.mean()) if len(values) else math.nan


def tune(
    family: str,
    space: ParamSpace,
    defaults: dict[str, Any],
    default_evaluation: Evaluation,
    evaluate: Evaluate,
    *,
    sign: float,
    n_folds: int,
    sampler: SamplerName,
    seed: int,
    n_trials: int | None,
    deadline: float | None,
    on_trial: Callable[[TrialRecord], None] | None = None,
    priors: Sequence[dict[str, Any]] = (),
) -> TuningOutcome:
    """Search ``space`` around ``defaults`` and return the best configuration.

    ``priors`` (configurations inside ``space``; parameters they leave out keep the defaults)
    are tried first, in order, then the sampler explores (the grid sampler ignores them).

    ``sign`` makes scores higher-is-better. With ``n_trials`` exactly that many trials run and
    the deadline is ignored (same seed, same result); otherwise trials run until ``deadline``
    (a ``time.perf_counter()`` value): a trial that would end after it is pruned.

    Raises:
        InvalidInputError: neither ``n_trials`` nor ``deadline`` is given, or a bad sampler.
    """
    if n_trials is None and deadline is None:
        raise InvalidInputError("Tuning needs a number of trials or a deadline.")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="maximize",
        sampler=make_sampler(sampler, space, seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=0),
    )
    best = {"value": signed_mean(default_evaluation.fold_scores, sign), "number": -1}
    outcome = TuningOutcome(dict(defaults), default_evaluation, 0)
    tuned_defaults = {k: v for k, v in defaults.items() if k in space}
    if sampler != "grid" and contains(space, tuned_defaults) and math.isfinite(best["value"]):
        running = [
            signed_mean(default_evaluation.fold_scores[: k + 1], sign) for k in range(n_folds)
        ]
        study.add_trial(
            optuna.trial.create_trial(
                params=tuned_defaults,
                distributions=distributions(space),
                value=best["value"],
                intermediate_values={k: v for k, v in enumerate(running) if math.isfinite(v)},
            )
        )

    if sampler != "grid":
        for prior in priors:  # parameters a prior leaves out keep their default values
            config = {**tuned_defaults, **prior}
            if contains(space, config) and config != tuned_defaults:
                study.enqueue_trial(config, skip_if_exists=True)

    def objective(trial: optuna.Trial) -> float:
        params = {**defaults, **suggest(trial, space)}
        started = time.perf_counter()
        record = TrialRecord(family, trial.number, params, "complete", None)

        def after_fold(k: int, scores: list[float], per_fold: float) -> None:
            record.fold_scores = list(scores)
            trial.report(signed_mean(scores, sign), k)
            if trial.should_prune():
                record.reason = f"pruned after fold {k + 1}: below the median of earlier trials"
                raise optuna.TrialPruned(record.reason)
            late = time.perf_counter() + per_fold * (n_folds - k - 1) > (deadline or math.inf)
            if n_trials is None and k + 1 < n_folds and late:
                record.reason = f"pruned after fold {k + 1}: time budget"
                raise optuna.TrialPruned(record.reason)

        try:
            evaluation = evaluate(params, after_fold)
        except optuna.TrialPruned:
            record.state = "pruned"
            raise
        except Exception as exc:
            record.state, record.reason = "failed", f"{type(exc).__name__}: {exc}"
            raise
        finally:
            record.seconds = time.perf_counter() - started
            outcome.n_trials += 1
            if record.state != "complete" and on_trial is not None:
                on_trial(record)
        value = signed_mean(evaluation.fold_scores, sign)
        record.score = sign * value if math.isfinite(value) else None
        if not math.isfinite(value):
            record.state, record.reason = "failed", "the metric is undefined on every fold"
        elif value > best["value"]:
            best["value"], best["number"] = value, trial.number
            outcome.params, outcome.evaluation = params, evaluation
        if on_trial is not None:
            on_trial(record)
        return value

    def stop_when_done(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if n_trials is not None:
            return
        expected = outcome.evaluation.fold_seconds * n_folds
        stale = trial.number - max(best["number"], study.trials[0].number) >= PATIENCE
        if stale or time.perf_counter() + expected > (deadline or math.inf):
            study.stop()

    study.optimize(objective, n_trials=n_trials, callbacks=[stop_when_done], catch=(Exception,))
    return outcome
