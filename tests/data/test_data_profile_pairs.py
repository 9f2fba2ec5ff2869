"""The profile's pairwise statistics on awkward columns equal pandas', with or without threads.

Ties, missing values on both sides of a pair, constant, all-missing and nearly empty columns,
a column present only where another is, signed zeros; small gather blocks so block boundaries
cut through tied runs.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
import pytest

import loopml.data._profile as profile
import loopml.data._profile_corr as profile_corr
import loopml.data._profile_facts as profile_facts
import loopml.data._scan as scan
from loopml.data import profile_frame
from loopml.data._profile_columns import sort_order
from loopml.data._profile_facts import column_hashes


def _awkward(n: int = 2000) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    smooth = rng.normal(size=n)
    smooth[rng.random(n) < 0.1] = np.nan
    ties = rng.integers(0, 6, n).astype("float64")
    ties[rng.random(n) < 0.15] = np.nan
    nested = rng.normal(size=n)  # present only where ``smooth`` is, with more gaps
    nested[np.isnan(smooth) | (rng.random(n) < 0.2)] = np.nan
    zeros = rng.choice([-0.0, 0.0, 1.0], n)
    single = np.full(n, np.nan)
    single[5] = 1.0
    return pd.DataFrame(
        {
            "smooth": smooth,
            "ties": ties,
            "nested": nested,
            "dense": rng.normal(size=n),
            "dense_ties": rng.poisson(2, n).astype("float64"),
            "constant": np.full(n, 4.0),
            "empty": np.full(n, np.nan),
            "single": single,
            "zeros": zeros,
            "colour": rng.choice(np.array(["red", "blue", None], dtype=object), n),
            "size": rng.choice(np.array(["s", "m", "l", "xl"], dtype=object), n),
        }
    )


NUMBERS = [
    *("smooth", "ties", "nested", "dense", "dense_ties"),
    *("constant", "empty", "single", "zeros"),
]


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(profile_corr, "GATHER_ROWS", 64)


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_correlations_equal_pandas_on_awkward_columns(
    monkeypatch: pytest.MonkeyPatch,
    small_blocks: None,
    workers: int,
    method: Literal["pearson", "spearman"],
) -> None:
    monkeypatch.setattr(scan, "WORKERS", workers)
    frame = _awkward()
    ours = profile_frame(frame).correlations[method]
    assert ours["columns"] == NUMBERS
    expected = frame[NUMBERS].corr(method=method).to_numpy()
    matrix = np.asarray(ours["matrix"], dtype=float)
    np.testing.assert_allclose(matrix, expected, atol=1e-9, rtol=0)  # NaN where pandas has NaN


def test_threads_give_the_same_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = _awkward()
    results = []
    for workers in (1, 2):
        monkeypatch.setattr(scan, "WORKERS", workers)
        data = profile_frame(frame, target="dense").to_dict()
        data.pop("generated_at")
        results.append(data)
    assert results[0] == results[1]


def test_duplicates_and_number_statistics_equal_pandas() -> None:
    frame = _awkward()
    frame = pd.concat([frame, frame.iloc[:40]], ignore_index=True)
    profile = profile_frame(frame)
    assert profile.duplicates == int(frame.duplicated().sum())
    for name in ("smooth", "ties", "nested", "zeros"):
        stats, series = profile.columns[name], frame[name]
        assert stats["distinct"] == series.nunique()
        assert stats["mean"] == pytest.approx(series.mean(), abs=1e-12)
        assert stats["std"] == pytest.approx(series.std(), abs=1e-12)
        assert stats["skew"] == pytest.approx(series.skew(), abs=1e-12)
        assert stats["zeros"] == int((series == 0).sum())


@pytest.mark.parametrize("where", ["first", "last"])
def test_a_column_of_distinct_values_rules_out_duplicates_wherever_it_is(
    where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = pd.concat([_awkward(), _awkward().iloc[:40]], ignore_index=True)
    assert frame.duplicated().sum() > 0
    ids = pd.Series(np.arange(len(frame))[::-1], name="row_id")
    frame = pd.concat([ids, frame] if where == "first" else [frame, ids], axis=1)
    hashed: list[str] = []
    real = profile_facts.column_hashes
    monkeypatch.setattr(
        profile, "column_hashes", lambda s, c=None: hashed.append(str(s.name)) or real(s, c)
    )
    result = profile_frame(frame)
    assert result.duplicates == int(frame.duplicated().sum()) == 0
    if where == "first":  # once a column shows no row can repeat, values are no longer hashed
        assert len(hashed) <= scan.WORKERS  # (only columns already in flight may be)


def test_column_hashes_equal_pandas_for_numbers_and_separate_categories() -> None:
    numbers = pd.Series([1.5, np.nan, -0.0, 0.0, float("-nan"), 3.0, 1e300, -2.0] * 5000)
    expected = pd.util.hash_pandas_object(numbers, index=False).to_numpy()
    np.testing.assert_array_equal(column_hashes(numbers), expected)
    codes = np.array([0, 1, -1, 1, 0, -1], dtype="int32")
    hashes = column_hashes(pd.Series(["a", "b", None, "b", "a", None]), codes)
    assert hashes is not None
    assert hashes[0] == hashes[4] and hashes[1] == hashes[3] and hashes[2] == hashes[5]
    assert len(set(hashes.tolist())) == 3


def test_cramers_v_counts_rows_where_both_are_present(small_blocks: None) -> None:
    frame = _awkward()
    both = frame[["colour", "size"]].dropna()
    table = pd.crosstab(both["colour"], both["size"]).to_numpy()
    n = table.sum()
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    chi2 = ((table - expected) ** 2 / expected).sum()
    v = np.sqrt(chi2 / n / (min(table.shape) - 1))
    ours = profile_frame(frame).correlations["cramers_v"]
    assert ours["columns"] == ["colour", "size"]
    assert ours["matrix"][0][1] == pytest.approx(v, abs=1e-12)


def _near_copies() -> np.ndarray:
    """Values just above (or below, when negative) later ones, so the packed sort puts about a
    hundred pairs in the wrong order before re-sorting them."""
    values = np.abs(np.random.default_rng(4).normal(size=100_000)) + 1.0
    values[:50] = values[-50:] * (1 + 2.0**-45)
    values[50:100] = -values[-100:-50]
    values[100:150] = -values[-100:-50] * (1 + 2.0**-45)
    return values


@pytest.mark.parametrize(
    "values",
    [
        np.random.default_rng(1).normal(size=200_000),
        np.random.default_rng(2).poisson(3, 50_000).astype("float64"),
        # Gaps far below the bits the packed sort keeps: every run needs re-sorting.
        1.0 + np.random.default_rng(3).integers(0, 2**20, 100_000) * 2.0**-52,
        _near_copies(),
        np.array([np.inf, -np.inf, -0.0, 0.0, -1e-300, 1e-300, 5.0, -5.0, 5.0]),
        np.array([2.0]),
        np.array([], dtype="float64"),
    ],
)
def test_sort_order_sorts_like_numpy(values: np.ndarray) -> None:
    order, ordered = sort_order(values)
    np.testing.assert_array_equal(ordered, np.sort(values))
    np.testing.assert_array_equal(values[order], ordered)
    np.testing.assert_array_equal(np.sort(order), np.arange(len(values)))
