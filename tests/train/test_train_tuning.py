"""Tuning with Optuna: trial counts, reproducibility, pruning, samplers, trial callbacks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from train_support import contract_for, signal_frame

from loopml.errors import InvalidInputError
from loopml.train import FloatRange, TrialRecord, parse_trials, train_candidates
from loopml.train._tuning import Evaluation, tune

FAST: dict[str, Any] = {"cv_folds": 3, "time_budget": 60.0, "n_jobs": 1, "task": "binary"}


def train(**kwargs: Any) -> Any:
    frame = signal_frame()
    return train_candidates(frame, contract_for(frame, "label"), **{**FAST, **kwargs})


def test_fixed_trial_count_is_run_reported_and_reproducible() -> None:
    seen: list[TrialRecord] = []
    first = train(families=["linear"], tune=True, trials=4, seed=5, on_trial=seen.append)
    assert first.trials == {"linear": 4}
    assert first.candidate("linear").n_trials == 4
    assert [t.number for t in seen] == [1, 2, 3, 4]  # trial 0 is the default configuration
    assert all(t.family == "linear" and t.state in ("complete", "pruned") for t in seen)
    assert all("C" in t.params for t in seen)
    again = train(families=["linear"], tune=True, trials=first.trials, seed=5)
    assert again.candidate("linear").params == first.candidate("linear").params
    assert again.candidate("linear").fold_scores == first.candidate("linear").fold_scores
    assert first.leaderboard()[0]["trials"] == 4


def test_tuning_never_ends_worse_than_the_defaults() -> None:
    plain = train(families=["linear"])
    tuned = train(families=["linear"], tune=True, trials=3)
    assert tuned.candidate("linear").cv_mean >= plain.candidate("linear").cv_mean


@pytest.mark.parametrize("sampler", ["random", "grid"])
def test_random_and_grid_samplers(sampler: str) -> None:
    result = train(families=["linear"], tune=True, trials=3, sampler=sampler)
    assert result.trials == {"linear": 3} and result.best.family == "linear"


def test_time_budgeted_tuning_reports_the_trials_it_ran() -> None:
    seen: list[TrialRecord] = []
    result = train(families=["linear"], tune=True, time_budget=4.0, on_trial=seen.append)
    assert result.trials.get("linear", 0) == len(seen)
    assert result.best.bundle is not None


def test_poor_trials_are_pruned_on_early_folds() -> None:
    def evaluate(params: dict[str, Any], after_fold: Any) -> Evaluation:
        scores: list[float] = []
        for k in range(4):
            scores.append(params["x"])
            after_fold(k, scores, 0.0)
        return Evaluation(scores, np.zeros(1), 0.0)

    records: list[TrialRecord] = []
    outcome = tune(
        "toy",
        {"x": FloatRange(0.0, 1.0)},
        {"x": 0.5},
        Evaluation([0.5] * 4, np.zeros(1), 0.0),
        evaluate,
        sign=1.0,
        n_folds=4,
        sampler="tpe",
        seed=0,
        n_trials=25,
        deadline=None,
        on_trial=records.append,
    )
    pruned = [r for r in records if r.state == "pruned"]
    assert pruned and all(r.reason.startswith("pruned after fold 1") for r in pruned)
    assert all(len(r.fold_scores) == 1 for r in pruned)
    assert outcome.n_trials == 25 and outcome.params["x"] > 0.5


def test_priors_are_tried_first_and_completed_with_the_defaults() -> None:
    def evaluate(params: dict[str, Any], after_fold: Any) -> Evaluation:
        scores = [params["x"] - params["y"]] * 3
        for k in range(3):
            after_fold(k, scores[: k + 1], 0.0)
        return Evaluation(scores, np.zeros(1), 0.0)

    records: list[TrialRecord] = []
    space = {"x": FloatRange(0.0, 1.0), "y": FloatRange(0.0, 1.0)}
    tune(
        "toy",
        space,
        {"x": 0.5, "y": 0.5},
        Evaluation([0.0] * 3, np.zeros(1), 0.0),
        evaluate,
        sign=1.0,
        n_folds=3,
        sampler="tpe",
        seed=0,
        n_trials=4,
        deadline=None,
        on_trial=records.append,
        priors=[{"x": 0.9}, {"x": 2.0}, {"x": 0.5, "y": 0.5}],  # out of range; the defaults
    )
    assert records[0].params == {"x": 0.9, "y": 0.5}
    assert all(r.params != {"x": 2.0, "y": 0.5} for r in records)
    assert len(records) == 4


def test_lightgbm_priors_lie_inside_its_search_space() -> None:
    from loopml.train import FAMILIES
    from loopml.train._space import contains

    family = FAMILIES["lightgbm"]
    for task in ("binary", "multiclass", "regression"):
        defaults = family.default_params(task)  # type: ignore[arg-type]
        tuned = {k: v for k, v in defaults.items() if k in family.search_space(task)}  # type: ignore[arg-type]
        priors = family.priors(task)  # type: ignore[arg-type]
        assert priors and all(
            contains(family.search_space(task), {**tuned, **p})  # type: ignore[arg-type]
            for p in priors
        )


def test_bad_tuning_options_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="Unknown sampler 'bayes'"):
        train(families=["linear"], tune=True, trials=1, sampler="bayes")
    with pytest.raises(InvalidInputError, match="trials must be a non-negative"):
        train(families=["linear"], tune=True, trials=-1)


def test_trial_counts_parse_as_people_write_them() -> None:
    assert parse_trials(None) is None and parse_trials("") is None
    assert parse_trials("12") == 12
    assert parse_trials("lightgbm=12, linear=3") == {"lightgbm": 12, "linear": 3}
    for bad in ("many", "lightgbm=x", "-2"):
        with pytest.raises(InvalidInputError, match="Cannot read the trial count"):
            parse_trials(bad)


def test_a_family_far_behind_the_best_is_not_tuned_under_a_time_budget() -> None:
    from loopml.train import FAMILIES, CandidateResult
    from loopml.train._finish import FamilyState
    from loopml.train._tuning_phase import _clearly_worse

    def state(family: str, folds: list[float]) -> FamilyState:
        return FamilyState(FAMILIES[family], CandidateResult(family=family, fold_scores=folds))

    best = state("lightgbm", [0.74, 0.73, 0.75, 0.74, 0.73])
    far = state("linear", [0.65, 0.64, 0.66, 0.64, 0.63])
    close = state("extra_trees", [0.75, 0.71, 0.74, 0.73, 0.74])
    assert _clearly_worse(best, far, 1.0)
    assert not _clearly_worse(best, close, 1.0)
    assert not _clearly_worse(best, best, 1.0)
    assert not _clearly_worse(far, best, 1.0)  # better, not worse
    assert _clearly_worse(far, best, -1.0)  # lower is better: the booster is far behind
