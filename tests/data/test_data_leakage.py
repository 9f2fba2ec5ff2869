"""Leakage and target checks, in the profile and in validate()."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loopml.data import check_leakage, feature_power, infer_contract, profile_frame, validate


@pytest.fixture(scope="module")
def leaky() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 2000
    signal = rng.normal(size=n)
    label = np.where(signal + rng.normal(scale=1.0, size=n) > 0, "yes", "no")
    signup = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D")
    return pd.DataFrame(
        {
            "customer": [f"C{i:05d}" for i in range(n)],
            "signal": signal,
            "refund_amount": np.where(label == "yes", rng.uniform(1, 9, n), 0.0),
            "reason": np.where(label == "yes", "moved", "none"),
            "signup": signup,
            "cancelled_at": signup + pd.to_timedelta(rng.integers(1, 30, n), unit="D"),
            "churn": label,
        }
    )


def test_single_feature_power_measures() -> None:
    y = pd.Series(["a", "b"] * 50)
    assert feature_power(pd.Series(np.arange(100) % 2 * 1.0), y, "binary") == ("auc", 1.0)
    noise = pd.Series(np.random.default_rng(0).normal(size=100))
    measure, value = feature_power(noise, y, "binary")  # type: ignore[misc]
    assert measure == "auc" and value < 0.7
    x = pd.Series(np.linspace(0, 1, 100))
    assert feature_power(x, 3 * x + 1, "regression") == ("r2", pytest.approx(1.0))


def test_profile_flags_leaks_ids_future_times_and_imbalance(leaky: pd.DataFrame) -> None:
    data = leaky.copy()
    data.loc[:40, "churn"] = "maybe"  # a small third class
    data.loc[:2, "churn"] = "odd"  # and a tiny one
    data["reason"] = data["churn"].map({"yes": "moved", "no": "none", "maybe": "?", "odd": "!"})
    result = profile_frame(data, target="churn", time_column="signup")
    found = {(w.kind, w.column) for w in result.warnings}
    assert ("leakage", "reason") in found  # its categories' majority class is always right
    assert ("id_like", "customer") in found
    assert ("future_time", "cancelled_at") in found
    assert ("tiny_class", "churn") in found and ("imbalance", "churn") in found
    assert ("leakage", "signal") not in found
    assert result.target is not None and result.target["task"] == "multiclass"


def test_binary_leak_is_named_with_its_auc(leaky: pd.DataFrame) -> None:
    result = profile_frame(leaky, target="churn")
    leaks = {w.column: w.message for w in result.warnings if w.kind == "leakage"}
    assert set(leaks) == {"refund_amount", "reason"}
    assert "ROC AUC 1.000" in leaks["refund_amount"]
    assert result.target["features"]["signal"]["value"] < 0.98  # type: ignore[index]


def test_validate_reports_leakage_warnings_without_failing(leaky: pd.DataFrame) -> None:
    contract = infer_contract(leaky, target="churn", time_column="signup")
    report = validate(leaky, contract, require_target=True)
    kinds = {(w.kind, w.column) for w in report.warnings}
    assert ("leakage", "refund_amount") in kinds and ("future_time", "cancelled_at") in kinds
    assert report.ok
    assert report.to_dict()["warnings"]
    assert validate(leaky.drop(columns="churn"), contract).warnings == []
    assert check_leakage(leaky.drop(columns="churn"), contract) == []
