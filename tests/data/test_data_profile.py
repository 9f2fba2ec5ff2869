"""The profile: statistics equal to pandas', correlations, facts, warnings, HTML and JSON."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from loopml.data import DataProfile, profile_frame
from loopml.errors import DataError, InvalidInputError


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 5000
    data = pd.DataFrame(
        {
            "normal": rng.normal(50, 10, n),
            "skewed": rng.lognormal(0, 1.5, n),
            "counts": rng.poisson(3, n),  # many ties
            "holes": rng.normal(size=n),
            "colour": pd.array(rng.choice(["red", "green", "blue"], n), dtype="str"),
            "shape": pd.array(rng.choice(["round", "square"], n), dtype="str"),
        }
    )
    data.loc[rng.random(n) < 0.1, "holes"] = np.nan
    data.loc[rng.random(n) < 0.05, "counts"] = np.nan
    data.loc[rng.random(n) < 0.02, "colour"] = None
    return data


@pytest.fixture(scope="module")
def profile(frame: pd.DataFrame) -> DataProfile:
    return profile_frame(frame)


NUMBERS = ["normal", "skewed", "counts", "holes"]


@pytest.mark.parametrize("column", NUMBERS)
def test_number_statistics_equal_pandas(
    frame: pd.DataFrame, profile: DataProfile, column: str
) -> None:
    stats, series = profile.columns[column], frame[column]
    assert stats["kind"] == "number"
    assert stats["missing"] == series.isna().sum()
    assert stats["distinct"] == series.nunique()
    assert stats["mean"] == pytest.approx(series.mean(), abs=1e-9)
    assert stats["std"] == pytest.approx(series.std(), abs=1e-9)
    assert stats["skew"] == pytest.approx(series.skew(), abs=1e-9)
    assert (stats["min"], stats["max"]) == (series.min(), series.max())
    for q, value in stats["quantiles"].items():
        assert value == pytest.approx(series.quantile(float(q)), abs=1e-9)
    assert sum(stats["histogram"]["counts"]) == series.notna().sum()
    q1, q3 = series.quantile(0.25), series.quantile(0.75)
    fences = (q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1))
    assert stats["outliers"] == ((series < fences[0]) | (series > fences[1])).sum()


@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_correlations_equal_pandas_with_pairwise_missing_values(
    frame: pd.DataFrame, profile: DataProfile, method: str
) -> None:
    ours = profile.correlations[method]
    assert ours["columns"] == NUMBERS
    expected = frame[NUMBERS].corr(method=method).to_numpy()
    np.testing.assert_allclose(ours["matrix"], expected, atol=1e-9, rtol=0)


def test_cramers_v_is_one_for_a_relabelled_copy_and_near_zero_for_independence() -> None:
    rng = np.random.default_rng(0)
    a = rng.choice(["x", "y", "z"], 3000)
    data = pd.DataFrame({"a": a, "b": pd.Series(a).map({"x": 1, "y": 2, "z": 3}).astype(str)})
    data["c"] = rng.choice(["p", "q"], 3000)
    matrix = pd.DataFrame(
        profile_frame(data).correlations["cramers_v"]["matrix"], index=["a", "b", "c"]
    )
    assert matrix.iloc[0, 1] == pytest.approx(1.0)
    assert matrix.iloc[0, 2] < 0.1


def test_category_statistics_and_facts(frame: pd.DataFrame, profile: DataProfile) -> None:
    colour = profile.columns["colour"]
    assert colour["kind"] == "category"
    assert colour["missing"] == frame["colour"].isna().sum()
    assert colour["distinct"] == 3
    counts = frame["colour"].value_counts()
    assert dict(colour["top"]) == counts.to_dict()
    expected = {c: int(n) for c, n in frame.isna().sum().items() if n}
    assert profile.missing["columns"] == expected
    assert profile.missing["rows_with_missing"] == frame.isna().any(axis=1).sum()
    assert sum(p["rows"] for p in profile.missing["patterns"]) <= len(frame)
    assert profile.duplicates == 0


def test_duplicates_constant_and_skew_are_warned() -> None:
    rng = np.random.default_rng(1)
    data = pd.DataFrame({"x": rng.lognormal(0, 2, 300), "same": 1.0})
    data = pd.concat([data, data.iloc[:5]], ignore_index=True)
    result = profile_frame(data)
    kinds = {(w.kind, w.column) for w in result.warnings}
    assert ("duplicates", None) in kinds
    assert ("constant", "same") in kinds
    assert ("skew", "x") in kinds
    assert result.duplicates == 5


def test_datetime_text_columns_are_profiled_as_dates() -> None:
    dates = pd.date_range("2024-01-01", periods=100, freq="D").strftime("%Y-%m-%d")
    result = profile_frame(pd.DataFrame({"day": dates, "v": range(100)}))
    assert result.columns["day"]["kind"] == "datetime"
    assert result.columns["day"]["min"].startswith("2024-01-01")
    assert result.columns["day"]["max"].startswith("2024-04-09")


def test_json_and_html_are_self_contained(profile: DataProfile) -> None:
    data = json.loads(profile.to_json())
    assert data["format"] == "loopml.profile/1"
    assert data["n_rows"] == 5000 and set(data["columns"]) >= set(NUMBERS)
    page = profile.to_html()
    assert "Plotly.newPlot" in page and "<script src=" not in page
    assert "Correlations" in page and "holes" in page
    assert profile._repr_html_().startswith("<iframe srcdoc=")


def test_bad_input_is_refused() -> None:
    with pytest.raises(DataError, match="no rows"):
        profile_frame(pd.DataFrame({"a": []}))
    with pytest.raises(InvalidInputError, match="target column 'nope'"):
        profile_frame(pd.DataFrame({"a": [1, 2]}), target="nope")
    with pytest.raises(DataError, match="duplicated column names: a"):
        profile_frame(pd.DataFrame([[1, 2]], columns=["a", "a"]))
