"""compute_metrics: the same numbers as scikit-learn, names shared across loopml, NaN-safe."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from evaluate_cases import Case, predictions_of
from sklearn import metrics as skm

from loopml.errors import InvalidInputError
from loopml.evaluate import GREATER_IS_BETTER, compute_metrics


def test_binary_metrics_equal_sklearn_on_churn(churn: Case) -> None:
    y_true, preds = predictions_of(churn)
    got = compute_metrics("binary", y_true, preds, classes=["No", "Yes"], positive_class="Yes")

    y = (y_true == "Yes").to_numpy().astype(int)
    pred = (preds["prediction"] == "Yes").to_numpy().astype(int)
    score = preds["probability_Yes"].to_numpy()
    expected = {
        "accuracy": skm.accuracy_score(y, pred),
        "balanced_accuracy": skm.balanced_accuracy_score(y, pred),
        "precision": skm.precision_score(y, pred),
        "recall": skm.recall_score(y, pred),
        "f1": skm.f1_score(y, pred),
        "roc_auc": skm.roc_auc_score(y, score),
        "pr_auc": skm.average_precision_score(y, score),
        "log_loss": skm.log_loss(y, score),
        "brier": skm.brier_score_loss(y, score),
        "mcc": skm.matthews_corrcoef(y, pred),
    }
    assert got == pytest.approx(expected, rel=1e-12)


def test_binary_positive_class_decides_which_probability_is_scored(churn: Case) -> None:
    y_true, preds = predictions_of(churn)
    as_yes = compute_metrics("binary", y_true, preds, classes=["No", "Yes"], positive_class="Yes")
    as_no = compute_metrics("binary", y_true, preds, classes=["No", "Yes"], positive_class="No")
    assert as_no["roc_auc"] == pytest.approx(as_yes["roc_auc"])  # AUC is symmetric
    assert as_no["accuracy"] == pytest.approx(as_yes["accuracy"])
    assert as_no["recall"] != pytest.approx(as_yes["recall"])
    y_no = (y_true == "No").to_numpy()
    assert as_no["pr_auc"] == pytest.approx(
        skm.average_precision_score(y_no, preds["probability_No"])
    )


def test_multiclass_metrics_equal_sklearn_on_penguins(penguins: Case) -> None:
    y_true, preds = predictions_of(penguins)
    classes = penguins.bundle.classes
    got = compute_metrics("multiclass", y_true, preds, classes=classes)

    proba = preds[[f"probability_{c}" for c in classes]].to_numpy()
    expected = {
        "accuracy": skm.accuracy_score(y_true, preds["prediction"]),
        "balanced_accuracy": skm.balanced_accuracy_score(y_true, preds["prediction"]),
        "f1_macro": skm.f1_score(y_true, preds["prediction"], average="macro"),
        "f1_weighted": skm.f1_score(y_true, preds["prediction"], average="weighted"),
        "roc_auc": skm.roc_auc_score(y_true, proba, multi_class="ovr", labels=classes),
        "log_loss": skm.log_loss(y_true, proba, labels=classes),
    }
    assert got == pytest.approx(expected, rel=1e-12)


def test_regression_metrics_equal_sklearn_on_diabetes(diabetes: Case) -> None:
    y_true, preds = predictions_of(diabetes)
    got = compute_metrics("regression", y_true, preds)
    pred = preds["prediction"]
    expected = {
        "rmse": skm.root_mean_squared_error(y_true, pred),
        "mae": skm.mean_absolute_error(y_true, pred),
        "mape": skm.mean_absolute_percentage_error(y_true, pred),
        "r2": skm.r2_score(y_true, pred),
        "median_absolute_error": skm.median_absolute_error(y_true, pred),
    }
    assert got == pytest.approx(expected, rel=1e-12)


def test_every_returned_metric_has_a_direction(churn: Case, penguins: Case) -> None:
    for case in (churn, penguins):
        y_true, preds = predictions_of(case)
        names = compute_metrics(
            case.bundle.task,
            y_true,
            preds,
            classes=case.bundle.classes,
            positive_class=case.bundle.positive_class,
        )
        assert set(names) <= set(GREATER_IS_BETTER)


def _binary_frame(proba_yes: list[float], threshold: float = 0.5) -> pd.DataFrame:
    p = np.asarray(proba_yes)
    labels = np.where(p >= threshold, "yes", "no")
    return pd.DataFrame({"prediction": labels, "probability_no": 1 - p, "probability_yes": p})


def test_one_class_labels_omit_undefined_metrics_without_crashing() -> None:
    preds = _binary_frame([0.1, 0.7, 0.2, 0.9])
    got = compute_metrics("binary", ["no"] * 4, preds, classes=["no", "yes"], positive_class="yes")
    assert got["accuracy"] == pytest.approx(0.5)
    assert got["log_loss"] > 0 and 0 < got["brier"] < 1
    for undefined in ("roc_auc", "pr_auc", "recall", "mcc"):
        assert undefined not in got
    assert got["precision"] == 0.0  # two positive predictions, both wrong: defined


def test_no_positive_predictions_omits_precision_only() -> None:
    preds = _binary_frame([0.1, 0.2, 0.3, 0.4])
    got = compute_metrics(
        "binary", ["no", "no", "yes", "yes"], preds, classes=["no", "yes"], positive_class="yes"
    )
    assert "precision" not in got
    assert got["recall"] == 0.0
    assert got["roc_auc"] == pytest.approx(1.0)


def test_regression_mape_skips_zero_targets_and_constant_target_has_no_r2() -> None:
    preds = pd.DataFrame({"prediction": [1.0, 2.5, 3.0, 0.5]})
    got = compute_metrics("regression", [0.0, 2.0, 4.0, 0.0], preds)
    assert got["mape"] == pytest.approx((0.25 + 0.25) / 2)
    assert "r2" not in compute_metrics("regression", [3.0, 3.0, 3.0, 3.0], preds)
    all_zero = compute_metrics("regression", [0.0] * 4, preds)
    assert "mape" not in all_zero and all_zero["mae"] == pytest.approx(1.75)


def test_labels_given_as_text_match_integer_classes() -> None:
    preds = pd.DataFrame(
        {
            "prediction": [0, 1, 1],
            "probability_0": [0.8, 0.3, 0.4],
            "probability_1": [0.2, 0.7, 0.6],
        }
    )
    got = compute_metrics("binary", ["0", "1", "0"], preds, classes=[0, 1], positive_class=1)
    assert got["accuracy"] == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    ("y_true", "preds", "kwargs", "message"),
    [
        ([], pd.DataFrame({"prediction": []}), {}, "no rows"),
        ([1.0, 2.0], pd.DataFrame({"prediction": [1.0]}), {}, "2 labels but 1 predictions"),
        ([1.0, None], pd.DataFrame({"prediction": [1.0, 2.0]}), {}, "1 label(s) are missing"),
        (["a"], pd.DataFrame({"prediction": [1.0]}), {}, "must be numbers"),
        ([1.0], pd.DataFrame({"score": [1.0]}), {}, "no 'prediction' column"),
        (
            pd.Series([1, None], dtype="Int64"),
            pd.DataFrame({"prediction": [1.0, 2.0]}),
            {},
            "1 label(s) are missing",
        ),
        (
            [1.0, 2.0],
            pd.DataFrame({"prediction": [1.0, np.inf]}),
            {},
            "'prediction' column has 1 missing or infinite value(s)",
        ),
    ],
)
def test_bad_regression_input_is_one_clear_error(
    y_true: list, preds: pd.DataFrame, kwargs: dict, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        compute_metrics("regression", y_true, preds, **kwargs)


def test_bad_classification_input_is_one_clear_error() -> None:
    preds = _binary_frame([0.1, 0.9])
    with pytest.raises(InvalidInputError, match="label\\(s\\) the model does not know: 'maybe'"):
        compute_metrics("binary", ["no", "maybe"], preds, classes=["no", "yes"])
    with pytest.raises(InvalidInputError, match="no 'probability_yes' column"):
        compute_metrics(
            "binary", ["no", "yes"], preds.drop(columns="probability_yes"), classes=["no", "yes"]
        )
    with pytest.raises(InvalidInputError, match="'probability_no' column has 1 missing"):
        compute_metrics(
            "binary",
            ["no", "yes"],
            preds.assign(probability_no=[np.nan, 0.1]),
            classes=["no", "yes"],
        )
    with pytest.raises(InvalidInputError, match="needs two classes; got 3"):
        compute_metrics("binary", ["no", "yes"], preds, classes=["no", "yes", "other"])
    with pytest.raises(InvalidInputError, match="task 'clustering'"):
        compute_metrics("clustering", ["no", "yes"], preds, classes=["no", "yes"])
