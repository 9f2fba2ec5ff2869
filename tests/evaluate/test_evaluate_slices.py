"""Worst-slice analysis: planted weak slices are found, tests are the textbook ones, BH applies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from loopml.data import ColumnSpec, DataContract
from loopml.evaluate._scored import Scored
from loopml.evaluate._slices import worst_slices


def _data(n: int, seed: int = 0) -> tuple[pd.DataFrame, DataContract]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "plan": rng.choice(["basic", "plus", "pro"], size=n),
            "region": rng.choice(["north", "south"], size=n),
            "age": rng.uniform(18, 80, size=n),
            "note": ["x"] * n,
        }
    )
    contract = DataContract(
        columns=[
            ColumnSpec(name="plan", dtype="category"),
            ColumnSpec(name="region", dtype="category"),
            ColumnSpec(name="age", dtype="float"),
            ColumnSpec(name="note", dtype="string", role="text"),
            ColumnSpec(name="y", dtype="category", role="target"),
        ],
        target="y",
    )
    return frame, contract


def _classified(wrong: np.ndarray) -> Scored:
    y = np.zeros(wrong.size, dtype=np.int64)
    proba = np.column_stack([1 - wrong * 0.9, wrong * 0.9])
    return Scored("binary", y, wrong.astype(np.int64), proba, ("a", "b"), 1)


def test_a_planted_pair_slice_ranks_first_and_is_significant() -> None:
    frame, contract = _data(5_000)
    rng = np.random.default_rng(1)
    planted = (frame["plan"] == "pro") & (frame["region"] == "south")
    wrong = np.where(planted, rng.random(5_000) < 0.5, rng.random(5_000) < 0.1)
    result = worst_slices(frame, _classified(wrong), contract)
    top = result["slices"][0]
    assert sorted(zip(top["columns"], top["values"], strict=True)) == [
        ("plan", "pro"),
        ("region", "south"),
    ]
    assert top["significant"] and top["count"] == planted.sum()
    assert top["metric"] == pytest.approx(wrong[planted].mean())
    assert top["gap"] == pytest.approx(wrong[planted].mean() - wrong.mean())
    assert "note" not in result["columns"]  # free text is not sliced
    assert all(s["count"] >= result["min_rows"] for s in result["slices"])
    gaps = [s["gap"] for s in result["slices"]]
    assert gaps == sorted(gaps, reverse=True)


def test_z_test_and_benjamini_hochberg_match_the_formulas() -> None:
    frame, contract = _data(3_000, seed=2)
    wrong = np.random.default_rng(3).random(3_000) < 0.2
    result = worst_slices(frame, _classified(wrong), contract, pair_columns=0)
    north = next(s for s in result["slices"] if s["values"] == ["north"])
    rows = (frame["region"] == "north").to_numpy()
    n, m = rows.sum(), (~rows).sum()
    pooled = wrong.mean()
    z = (wrong[rows].mean() - wrong[~rows].mean()) / np.sqrt(
        pooled * (1 - pooled) * (1 / n + 1 / m)
    )
    assert north["p_value"] == pytest.approx(stats.norm.sf(z))
    p = np.array([s["p_value"] for s in result["slices"]])
    q = stats.false_discovery_control(p)
    assert [s["q_value"] for s in result["slices"]] == pytest.approx(q.tolist())
    assert result["n_significant"] == 0  # pure noise: nothing survives the correction


def test_regression_uses_welch_t_on_absolute_errors() -> None:
    frame, contract = _data(2_000, seed=4)
    rng = np.random.default_rng(5)
    y = rng.normal(size=2_000)
    noise = np.where(frame["plan"] == "basic", 3.0, 1.0) * rng.normal(size=2_000)
    scored = Scored("regression", y, y + noise, None, ())
    result = worst_slices(frame, scored, contract)
    assert result["metric"] == "mae"
    basic = next(
        s for s in result["slices"] if s["columns"] == ["plan"] and s["values"] == ["basic"]
    )
    errors, rows = np.abs(noise), (frame["plan"] == "basic").to_numpy()
    expected = stats.ttest_ind(errors[rows], errors[~rows], equal_var=False, alternative="greater")
    assert basic["p_value"] == pytest.approx(expected.pvalue, rel=1e-6, abs=1e-300)
    assert basic["significant"] and basic["metric"] == pytest.approx(errors[rows].mean())


def test_minimum_support_and_large_inputs() -> None:
    frame, contract = _data(100_000, seed=6)
    wrong = np.random.default_rng(7).random(100_000) < 0.1
    result = worst_slices(frame, _classified(wrong), contract)
    assert result["min_rows"] == 1_000  # 1 % of the rows beats the floor of 30
    assert result["n_tested"] == len(result["slices"]) > 20
    age_bins = [s for s in result["slices"] if s["columns"] == ["age"]]
    assert len(age_bins) == 5 and sum(s["count"] for s in age_bins) == 100_000
