"""The charter's training options: tuning, threshold, costs, calibration, ensembles."""

from __future__ import annotations

import pytest

from loopml.charter import parse_charter
from loopml.charter._write import render_charter
from loopml.errors import CharterError

BASE = "name: x\ntask: binary\ntarget: y\ndata: {path: a.csv}\n"


def test_defaults_tune_calibrate_and_blend() -> None:
    training = parse_charter(BASE).training
    assert training.tune and training.calibrate and training.ensemble
    assert training.sampler == "tpe" and training.trials is None
    assert training.threshold == "auto" and training.costs is None


def test_options_round_trip_through_the_commented_file() -> None:
    text = BASE + (
        "training:\n  sampler: random\n  trials: 7\n  threshold: cost\n"
        "  costs: {false_positive: 1, false_negative: 8}\n  ensemble: false\n"
    )
    charter = parse_charter(text)
    assert charter.training.costs is not None and charter.training.costs.false_negative == 8
    rendered = render_charter(charter)
    assert "# auto | fixed | f1 | youden | cost" in rendered
    assert parse_charter(rendered) == charter


def test_cost_threshold_without_costs_is_refused_with_the_line() -> None:
    with pytest.raises(CharterError, match="needs 'costs'"):
        parse_charter(BASE + "training:\n  threshold: cost\n")
    with pytest.raises(CharterError, match="sampler"):
        parse_charter(BASE + "training:\n  sampler: bayes\n")


def test_every_new_section_round_trips_through_the_commented_file() -> None:
    text = BASE + (
        "cleaning:\n  drop_duplicates: true\n  missing: {default: median, columns: {c: constant},"
        " fill_values: {c: none}}\n  outliers: {method: quantile, lower: 0.05}\n"
        "  coerce: {a: float}\n"
        'features:\n  derived: [{name: r, expr: "a / b"}]\n  selection: {method: rfe,'
        " max_features: 3}\n  pca: 0.9\n  high_cardinality: ordinal\n"
        "training:\n  self_training: true\n"
        "unsupervised: {max_clusters: 5, contamination: 0.1}\n"
        "retraining:\n  rollout: {strategy: canary, weight: 0.2}\n  automatic: true\n"
    )
    charter = parse_charter(text)
    rendered = render_charter(charter)
    assert parse_charter(rendered) == charter
    assert "self_training: true" in rendered and "cleaning: {" in rendered


def test_a_default_charter_shows_the_optional_sections_as_comments() -> None:
    rendered = render_charter(parse_charter(BASE))
    assert "# cleaning: {" in rendered and "# features: {" in rendered
    assert "# self_training: true" in rendered
    assert parse_charter(rendered) == parse_charter(BASE)
