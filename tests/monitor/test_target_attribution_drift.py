"""Target drift (labels against the training labels), attribution drift (each feature's share
of mean |SHAP| importance) and the drift-over-time chart of the monitor report."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from loopml.data import ColumnSpec, DataContract
from loopml.monitor import (
    DriftReport,
    ReferenceProfile,
    attribution_drift,
    attribution_summary,
    compute_drift,
    report_metrics,
    target_drift,
)
from loopml.monitor.drift import CategoricalSummary
from loopml.train import ModelBundle

FEATURES = ["x1", "x2", "x3"]


def _contract() -> DataContract:
    columns = [ColumnSpec(name=n, dtype="float", role="feature") for n in FEATURES]
    columns.append(ColumnSpec(name="y", dtype="category", role="target"))
    return DataContract(columns=columns, target="y")


def _frame(n: int, seed: int, positive: float = 0.3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({name: rng.normal(0, 1, n) for name in FEATURES})
    frame["y"] = np.where(rng.random(n) < positive, "yes", "no")
    return frame


def test_target_drift_compares_the_labels_that_arrived_with_the_training_labels() -> None:
    profile = ReferenceProfile.from_frame(_frame(4_000, 0), _contract())
    assert profile.target_name == "y" and "y" not in profile.columns
    same = target_drift(profile, _frame(2_000, 1)["y"].tolist())
    assert same is not None and same["test"] == "jensenshannon" and not same["drifted"]

    labels = _frame(2_000, 2, positive=0.7)["y"].tolist()
    moved = target_drift(profile, labels)
    assert moved is not None and moved["drifted"] and moved["n_current"] == 2_000
    reference = profile.target
    assert isinstance(reference, CategoricalSummary)
    ref_counts = dict(zip(reference.categories, reference.counts.tolist(), strict=True))
    cur_counts = pd.Series(labels).value_counts()
    expected = jensenshannon(
        np.array([ref_counts["no"], ref_counts["yes"]]) / reference.n,
        np.array([cur_counts["no"], cur_counts["yes"]]) / len(labels),
    )
    assert moved["statistic"] == pytest.approx(expected, abs=1e-12)
    assert moved["distribution"]["kind"] == "bars"
    # the stored profile keeps the target summary
    restored = ReferenceProfile.from_json(profile.to_json())
    assert restored.target_name == "y" and restored.target is not None
    assert target_drift(restored, labels) == moved
    assert target_drift(profile, []) is None


@pytest.fixture(scope="module")
def bundle() -> ModelBundle:
    train = _frame(3_000, 3)
    rng = np.random.default_rng(4)
    # x1 drives the label, x2 a little, x3 not at all
    logit = 2.0 * train["x1"] + 0.5 * train["x2"] + rng.normal(0, 0.5, len(train))
    train["y"] = np.where(logit > 0, "yes", "no")
    pre = ColumnTransformer([("num", StandardScaler(), FEATURES)])
    pipeline = Pipeline([("pre", pre), ("model", LogisticRegression())])
    pipeline.fit(train[FEATURES], (train["y"] == "yes").astype(int))
    return ModelBundle(pipeline, _contract(), "binary", classes=["no", "yes"], positive_class="yes")


def test_attribution_drift_reports_the_change_of_each_features_share(
    bundle: ModelBundle,
) -> None:
    reference = attribution_summary(bundle, _frame(3_000, 5))
    assert reference is not None and reference["n_rows"] == 1_000  # the stated sample size
    assert sum(reference["shares"].values()) == pytest.approx(1.0)
    assert max(reference["shares"], key=reference["shares"].get) == "x1"

    same = attribution_drift(reference, attribution_summary(bundle, _frame(2_000, 6)) or {})
    assert not same["drifted"] and same["statistic"] < 0.05

    moved_rows = _frame(2_000, 7)
    moved_rows["x1"] = 0.05 * moved_rows["x1"]  # x1 barely varies any more
    moved_rows["x2"] = 4.0 * moved_rows["x2"]  # x2 varies four times as much
    current = attribution_summary(bundle, moved_rows)
    assert current is not None
    moved = attribution_drift(reference, current, threshold=0.1)
    assert moved["drifted"] and set(moved["drifted_features"]) == {"x1", "x2"}
    x1, x2 = moved["features"]["x1"], moved["features"]["x2"]
    assert x1["change"] < -0.1 < 0.1 < x2["change"]
    assert x1["change"] == pytest.approx(x1["current_share"] - x1["reference_share"])
    expected_tvd = 0.5 * sum(abs(r["change"]) for r in moved["features"].values())
    assert moved["statistic"] == pytest.approx(expected_tvd)
    assert next(iter(moved["features"])) in {"x1", "x2"}  # largest change first


def test_the_report_carries_both_sections_and_drift_over_time() -> None:
    reference, current = _frame(2_000, 8), _frame(2_000, 9)
    current["x1"] = current["x1"] + 1.0
    report = compute_drift(reference, current, model="m:1")
    report.target_drift = {
        "column": "y",
        "test": "jensenshannon",
        "statistic": 0.2,
        "p_value": None,
        "threshold": 0.1,
        "drifted": True,
        "type": "categorical",
        "n_reference": 10,
        "n_current": 10,
        "distribution": {"kind": "bars", "categories": ["a"], "reference": [1], "current": [2]},
    }
    report.attribution_drift = {
        "statistic": 0.3,
        "threshold": 0.1,
        "drifted": True,
        "drifted_features": ["x1"],
        "n_reference": 1000,
        "n_current": 1000,
        "method": "linear",
        "features": {
            "x1": {"reference_share": 0.6, "current_share": 0.3, "change": -0.3, "drifted": True}
        },
    }
    report.history = [
        {"time": f"2026-01-0{d}T00:00:00", "share_drifted": 0.0, "features": {"x1": 0.01}}
        for d in (1, 2)
    ]
    data = json.loads(report.to_json())
    assert data["target_drift"]["drifted"] and data["attribution_drift"]["statistic"] == 0.3
    assert len(data["history"]) == 2
    metrics = report_metrics(report)
    assert metrics["target_drift"] == 1.0 and metrics["attribution_drift"] == 0.3
    html = report.to_html()
    for section in ("Target drift", "Attribution drift", "Drift over time"):
        assert section in html
    assert "Drift statistic per feature over time" in html
    assert DriftReport.from_dict(data).history == report.history
