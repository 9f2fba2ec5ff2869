"""Choosing the best candidate: scores are compared on the folds both candidates were scored
on, and a simpler model within one standard error (paired over folds) is preferred."""

from __future__ import annotations

from loopml.train import CandidateResult
from loopml.train._summary import _on_common_folds, _simplest_within_noise


def _candidate(family: str, folds: list[float]) -> CandidateResult:
    return CandidateResult(family=family, fold_scores=folds, cv_mean=sum(folds) / len(folds))


def _scored(*results: CandidateResult) -> list[tuple[float, CandidateResult]]:
    return [(r.cv_mean or 0.0, r) for r in results]


def test_a_booster_within_noise_of_linear_loses_to_linear() -> None:
    linear = _candidate("linear", [0.80, 0.70, 0.75, 0.78, 0.72])
    booster = _candidate("lightgbm", [0.79, 0.74, 0.73, 0.80, 0.73])  # +0.008, noisy
    notes: list[str] = []
    assert _simplest_within_noise(booster, _scored(linear, booster), 1.0, notes) is linear
    assert "Chose linear over lightgbm" in notes[0]


def test_a_booster_that_wins_on_every_fold_is_kept() -> None:
    linear = _candidate("linear", [0.80, 0.70, 0.75, 0.78, 0.72])
    booster = _candidate("lightgbm", [0.83, 0.74, 0.78, 0.81, 0.76])
    notes: list[str] = []
    assert _simplest_within_noise(booster, _scored(linear, booster), 1.0, notes) is booster
    assert notes == []


def test_lower_is_better_metrics_use_the_sign() -> None:
    linear = _candidate("linear", [50.0, 60.0, 55.0, 52.0])
    booster = _candidate("lightgbm", [45.0, 55.0, 50.0, 47.0])  # rmse: clearly better
    assert _simplest_within_noise(booster, _scored(linear, booster), -1.0, []) is booster


def test_a_partial_cross_validation_is_compared_on_the_same_folds() -> None:
    linear = _candidate("linear", [0.95, 0.80, 0.80, 0.80, 0.80])  # the first fold is easy
    booster = _candidate("lightgbm", [0.90])  # stopped by the budget after one fold
    assert booster.cv_mean > linear.cv_mean  # type: ignore[operator]
    assert _on_common_folds(booster, _scored(linear, booster), 1.0) is linear
    forest = _candidate("random_forest", [0.97, 0.85])  # better than linear on its folds
    scored = _scored(linear, booster, forest)
    assert _on_common_folds(booster, scored, 1.0) is forest
    assert _on_common_folds(forest, scored, 1.0) is forest


def test_a_tuned_winner_is_judged_on_the_second_set_of_folds() -> None:
    linear = _candidate("linear", [0.80, 0.70, 0.75, 0.78, 0.72])
    tuned = _candidate("svm", [0.83, 0.74, 0.78, 0.81, 0.76])  # wins every fold it was tuned on
    fresh = {"linear": [0.78, 0.74, 0.76, 0.71, 0.79], "svm": [0.79, 0.72, 0.77, 0.73, 0.78]}
    notes: list[str] = []

    chosen = _simplest_within_noise(tuned, _scored(linear, tuned), 1.0, notes, fresh)

    assert chosen is linear
    assert "on a second set of folds" in notes[0]
    assert _simplest_within_noise(tuned, _scored(linear, tuned), 1.0, [], {"svm": [0.9] * 5}) is (
        tuned
    )  # a rival without second-look scores is judged on the first folds


def test_on_fresh_folds_the_allowance_grows_with_the_configurations_tried() -> None:
    linear = _candidate("linear", [0.80, 0.70, 0.75, 0.78, 0.72])
    svm = _candidate("svm", [0.83, 0.74, 0.78, 0.81, 0.76])
    # On fresh folds svm leads by 0.01 with a standard error of ~0.0045: about 2.2 errors.
    fresh = {"linear": [0.78, 0.74, 0.76, 0.71, 0.79], "svm": [0.79, 0.76, 0.76, 0.73, 0.79]}
    svm.n_trials = 1  # not tuned: one error is the allowance, and svm's lead is real
    assert _simplest_within_noise(svm, _scored(linear, svm), 1.0, [], fresh) is svm
    svm.n_trials = 50  # the best of 50: sqrt(2 ln 50) = 2.8 errors of flattery expected
    notes: list[str] = []
    assert _simplest_within_noise(svm, _scored(linear, svm), 1.0, notes, fresh) is linear
    assert "2.8 standard errors" in notes[0] and "50 configurations" in notes[0]


def test_a_blend_is_allowed_for_the_trials_of_its_most_tuned_member() -> None:
    linear = _candidate("linear", [0.80, 0.70, 0.75, 0.78, 0.72])
    svm = _candidate("svm", [0.82, 0.73, 0.77, 0.80, 0.75])
    blend = _candidate("ensemble", [0.83, 0.74, 0.78, 0.81, 0.76])
    blend.params = {"svm": 0.5, "linear": 0.5}
    svm.n_trials, linear.n_trials = 50, 3
    fresh = {
        "linear": [0.78, 0.74, 0.76, 0.71, 0.79],
        "svm": [0.78, 0.74, 0.76, 0.72, 0.79],
        "ensemble": [0.79, 0.76, 0.76, 0.73, 0.79],
    }
    assert _simplest_within_noise(blend, _scored(linear, svm, blend), 1.0, [], fresh) is linear
