"""The metric registry: direction, applicable tasks, scores on probabilities, clear refusals."""

from __future__ import annotations

import numpy as np
import pytest

from loopml.errors import InvalidInputError
from loopml.train import METRICS, default_metric, get_metric, metrics_for

BINARY_TRUTH = np.array([0, 0, 1, 1])
BINARY_PROBA = np.array([[0.9, 0.1], [0.3, 0.7], [0.35, 0.65], [0.2, 0.8]])


def test_defaults_per_task() -> None:
    assert default_metric("binary") == "roc_auc"
    assert default_metric("multiclass") == "roc_auc"
    assert default_metric("regression") == "rmse"
    assert get_metric(None, "regression").name == "rmse"


def test_each_metric_knows_its_direction_and_tasks() -> None:
    assert not METRICS["log_loss"].greater_is_better
    assert not METRICS["rmse"].greater_is_better
    assert METRICS["r2"].greater_is_better and METRICS["pr_auc"].greater_is_better
    assert set(metrics_for("regression")) == {"rmse", "mae", "r2"}
    assert "f1" in metrics_for("binary") and "f1" in metrics_for("multiclass")


def test_binary_scores_use_the_positive_column() -> None:
    roc = METRICS["roc_auc"]
    assert roc.score(BINARY_TRUTH, BINARY_PROBA, positive_index=1) == pytest.approx(0.75)
    # Same predictions with the classes swapped: class 0 positive, its probability in column 0.
    assert roc.score(1 - BINARY_TRUTH, BINARY_PROBA[:, ::-1], positive_index=0) == pytest.approx(
        0.75
    )
    # Labels from p(positive) >= 0.5: [0, 1, 1, 1] -> one false positive.
    assert METRICS["accuracy"].score(BINARY_TRUTH, BINARY_PROBA) == pytest.approx(0.75)
    assert METRICS["f1"].score(BINARY_TRUTH, BINARY_PROBA) == pytest.approx(0.8)
    assert METRICS["balanced_accuracy"].score(BINARY_TRUTH, BINARY_PROBA) == pytest.approx(0.75)


def test_multiclass_scores() -> None:
    truth = np.array([0, 1, 2, 2])
    proba = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.2, 0.7], [0.5, 0.1, 0.4]])
    assert METRICS["roc_auc"].score(truth, proba) == pytest.approx(1.0)
    assert METRICS["accuracy"].score(truth, proba) == pytest.approx(0.75)
    assert METRICS["f1"].score(truth, proba) == pytest.approx((2 / 3 + 1 + 2 / 3) / 3)
    expected = -np.mean(np.log([0.8, 0.7, 0.7, 0.4]))
    assert METRICS["log_loss"].score(truth, proba) == pytest.approx(expected)
    assert 0.0 < METRICS["pr_auc"].score(truth, proba) <= 1.0


def test_regression_scores() -> None:
    truth, pred = np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 5.0])
    assert METRICS["rmse"].score(truth, pred) == pytest.approx(np.sqrt(4 / 3))
    assert METRICS["mae"].score(truth, pred) == pytest.approx(2 / 3)
    assert METRICS["r2"].score(truth, pred) == pytest.approx(1 - 4 / 2)


def test_unknown_or_misapplied_metrics_list_the_valid_ones() -> None:
    with pytest.raises(InvalidInputError, match="'auc' is not a known metric") as info:
        get_metric("auc", "binary")
    assert "roc_auc" in str(info.value)
    with pytest.raises(InvalidInputError, match="does not apply to regression") as info:
        get_metric("roc_auc", "regression")
    assert "rmse, mae, r2" in str(info.value)
    with pytest.raises(InvalidInputError, match="clustering"):
        default_metric("clustering")
