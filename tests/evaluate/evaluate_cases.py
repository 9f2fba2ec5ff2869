"""Real models for evaluation tests: sklearn pipelines wrapped in ModelBundles by hand.

A helper module with a unique name (not ``conftest``) so tests can import it unambiguously.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from loopml.data import ColumnSpec, DataContract
from loopml.train import ModelBundle, Task


@dataclass
class Case:
    """A fitted bundle with its training and holdout frames."""

    bundle: ModelBundle
    train: pd.DataFrame
    test: pd.DataFrame


def _contract(frame: pd.DataFrame, target: str) -> DataContract:
    columns = []
    for name in frame.columns:
        series = frame[name]
        if pd.api.types.is_integer_dtype(series):
            dtype = "integer"
        elif pd.api.types.is_float_dtype(series):
            dtype = "float"
        else:
            dtype = "category"
        role = "target" if name == target else "feature"
        columns.append(ColumnSpec(name=name, dtype=dtype, role=role, max_null_share=0.1))
    return DataContract(columns=columns, target=target)


def _pipeline(frame: pd.DataFrame, features: list[str], estimator: object) -> Pipeline:
    numeric = [c for c in features if pd.api.types.is_numeric_dtype(frame[c])]
    categorical = [c for c in features if c not in numeric]
    pre = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(), StandardScaler()), numeric),
            ("cat", OneHotEncoder(handle_unknown="ignore"), categorical),
        ]
    )
    return Pipeline([("pre", pre), ("model", estimator)])


def fit_case(frame: pd.DataFrame, target: str, task: Task, *, positive: object = None) -> Case:
    contract = _contract(frame, target)
    stratify = frame[target] if task != "regression" else None
    train, test = train_test_split(frame, test_size=0.3, random_state=0, stratify=stratify)
    features = contract.feature_names
    if task == "regression":
        pipeline = _pipeline(frame, features, Ridge()).fit(train[features], train[target])
        return Case(ModelBundle(pipeline, contract, task, family="linear"), train, test)
    classes = sorted(frame[target].unique().tolist())
    encoded = pd.Index(classes).get_indexer(train[target])
    estimator = LogisticRegression(max_iter=2000)
    pipeline = _pipeline(frame, features, estimator).fit(train[features], encoded)
    bundle = ModelBundle(
        pipeline, contract, task, classes=classes, positive_class=positive, family="linear"
    )
    return Case(bundle, train, test)


def predictions_of(case: Case) -> tuple[pd.Series, pd.DataFrame]:
    target = case.bundle.contract.target
    assert target is not None
    return case.test[target], case.bundle.predict_frame(case.test)
