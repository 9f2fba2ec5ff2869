"""bootstrap_intervals: reproducible percentile intervals, each replicate equal to sklearn."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from evaluate_cases import Case, predictions_of

from loopml.errors import InvalidInputError
from loopml.evaluate import bootstrap_intervals, compute_metrics
from loopml.evaluate._metrics import metrics_of
from loopml.evaluate._scored import Scored, score_arrays
from loopml.evaluate._weighted import replicate_metrics


def _intervals_and_point(case: Case, **kwargs: object) -> tuple[dict, dict]:
    y_true, preds = predictions_of(case)
    b = case.bundle
    args = (b.task, y_true, preds)
    point = compute_metrics(*args, classes=b.classes, positive_class=b.positive_class)
    ci = bootstrap_intervals(*args, b.classes, b.positive_class, **kwargs)  # type: ignore[arg-type]
    return ci, point


@pytest.mark.parametrize("case_name", ["churn", "penguins", "diabetes"])
def test_intervals_cover_every_metric_and_contain_the_point_estimate(
    case_name: str, request: pytest.FixtureRequest
) -> None:
    ci, point = _intervals_and_point(request.getfixturevalue(case_name))
    assert set(ci) == set(point)
    for name, (low, high) in ci.items():
        assert low < high, name
        assert low <= point[name] <= high, name


def test_intervals_are_reproducible_by_seed_and_narrow_with_level(churn: Case) -> None:
    first, _ = _intervals_and_point(churn, metrics=["roc_auc", "f1"], seed=3)
    again, _ = _intervals_and_point(churn, metrics=["roc_auc", "f1"], seed=3)
    other, _ = _intervals_and_point(churn, metrics=["roc_auc", "f1"], seed=4)
    narrow, _ = _intervals_and_point(churn, metrics=["roc_auc", "f1"], seed=3, level=0.5)
    assert first == again
    assert first != other
    assert set(first) == {"roc_auc", "f1"}
    for name, (low, high) in narrow.items():
        assert first[name][0] < low < high < first[name][1]


def _resampled(scored: Scored, rows: np.ndarray) -> Scored:
    proba = None if scored.proba is None else scored.proba[rows]
    return dataclasses.replace(scored, y=scored.y[rows], pred=scored.pred[rows], proba=proba)


@pytest.mark.parametrize("case_name", ["churn", "penguins", "diabetes"])
def test_vectorised_replicates_equal_sklearn_on_the_resampled_rows(
    case_name: str, request: pytest.FixtureRequest
) -> None:
    case: Case = request.getfixturevalue(case_name)
    y_true, preds = predictions_of(case)
    b = case.bundle
    scored = score_arrays(b.task, y_true, preds, classes=b.classes, positive_class=b.positive_class)
    rng = np.random.default_rng(7)
    draws = rng.integers(0, scored.n_rows, size=(3, scored.n_rows))
    counts = np.stack([np.bincount(d, minlength=scored.n_rows) for d in draws])
    names = set(metrics_of(scored))
    values = replicate_metrics(scored, counts, names)
    for i, rows in enumerate(draws):
        expected = metrics_of(_resampled(scored, rows))
        got = {name: values[name][i] for name in expected}
        assert got == pytest.approx(expected, rel=1e-9), i


def test_ties_in_scores_are_ranked_like_sklearn() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    p = np.round(np.clip(0.3 * y + 0.7 * rng.random(300), 0, 1), 1)  # heavy ties
    scored = Scored("binary", y, (p >= 0.5).astype(int), np.column_stack([1 - p, p]), ("n", "y"))
    draws = rng.integers(0, 300, size=(2, 300))
    counts = np.stack([np.bincount(d, minlength=300) for d in draws])
    values = replicate_metrics(scored, counts, {"roc_auc", "pr_auc"})
    for i, rows in enumerate(draws):
        expected = metrics_of(_resampled(scored, rows))
        assert values["roc_auc"][i] == pytest.approx(expected["roc_auc"])
        assert values["pr_auc"][i] == pytest.approx(expected["pr_auc"])


def test_metrics_undefined_on_the_data_get_no_interval() -> None:
    p = np.linspace(0.05, 0.6, 40)
    preds = pd.DataFrame(
        {
            "prediction": np.where(p >= 0.5, "yes", "no"),
            "probability_no": 1 - p,
            "probability_yes": p,
        }
    )
    one_class = ["no"] * 40
    ci = bootstrap_intervals("binary", one_class, preds, ["no", "yes"], "yes", n_boot=50)
    assert "roc_auc" not in ci and "recall" not in ci
    assert "accuracy" in ci and "brier" in ci
    # Asked for explicitly, a metric undefined in every replicate is still left out.
    asked = bootstrap_intervals(
        "binary", one_class, preds, ["no", "yes"], "yes", metrics=["roc_auc", "accuracy"]
    )
    assert set(asked) == {"accuracy"}


def test_bad_arguments_are_rejected(churn: Case) -> None:
    y_true, preds = predictions_of(churn)
    args = ("binary", y_true, preds, ["No", "Yes"], "Yes")
    with pytest.raises(InvalidInputError, match="Unknown metric\\(s\\): auc"):
        bootstrap_intervals(*args, metrics=["auc"])  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="n_boot must be at least 2"):
        bootstrap_intervals(*args, n_boot=1)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="level must be between 0 and 1"):
        bootstrap_intervals(*args, level=95)  # type: ignore[arg-type]


def test_ten_thousand_rows_are_handled_in_bounded_chunks() -> None:
    rng = np.random.default_rng(1)
    n = 10_000
    y = rng.normal(size=n)
    preds = pd.DataFrame({"prediction": y + rng.normal(scale=0.5, size=n)})
    ci = bootstrap_intervals("regression", y, preds, n_boot=200)
    low, high = ci["rmse"]
    assert 0.48 < low < 0.5 < high < 0.52
