"""Models of every family over a small frame with every column kind (numbers, categories with
missing values, booleans, datetimes), for tests comparing a fast scoring path with the pipeline."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from loopml.data import ColumnSpec, DataContract
from loopml.train import ModelBundle, get_family
from loopml.train._decision import CalibratedModel, ProbabilityCalibrator
from loopml.train._ensemble import BlendedClassifier

COLORS = ["red", "green", "blue", "black"]
SIZES = ["S", "M", "L"]


def mixed_frame(n: int, seed: int) -> pd.DataFrame:
    """``n`` rows of every column kind, with the targets ``label``, ``tier`` and ``score``."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n),
            "income": rng.normal(50.0, 15.0, n),
            "color": rng.choice(COLORS, n, p=[0.4, 0.3, 0.28, 0.02]),
            "size": rng.choice(SIZES, n),
            "member": rng.choice([True, False], n),
            "joined": pd.to_datetime("2020-01-01")
            + pd.to_timedelta(rng.integers(0, 1500, n), unit="D")
            + pd.to_timedelta(rng.integers(0, 24, n), unit="h"),
        }
    )
    frame.loc[rng.random(n) < 0.1, "income"] = np.nan
    frame["size"] = frame["size"].astype(object)
    frame.loc[rng.random(n) < 0.1, "size"] = None
    signal = (frame.age / 40 + (frame.color == "red") + frame.income.fillna(50) / 50).to_numpy()
    frame["score"] = signal + rng.normal(0, 0.3, n)
    frame["label"] = np.where(signal > np.median(signal), "yes", "no")
    frame["tier"] = pd.cut(signal, 3, labels=["low", "mid", "high"]).astype(str)
    return frame


FRAME = mixed_frame(400, 0)


def mixed_contract(target: str) -> DataContract:
    """The contract of :func:`mixed_frame` with ``target`` as the target."""
    columns = [
        ColumnSpec(name="age", dtype="integer", min=18, max=79),
        ColumnSpec(name="income", dtype="float", min=0.0, max=120.0, max_null_share=0.2),
        ColumnSpec(name="color", dtype="category", categories=COLORS),
        ColumnSpec(name="size", dtype="category", categories=SIZES, max_null_share=0.2),
        ColumnSpec(name="member", dtype="boolean"),
        ColumnSpec(name="joined", dtype="datetime"),
    ]
    if target == "score":
        columns.append(ColumnSpec(name="score", dtype="float", role="target"))
    else:
        values = sorted(FRAME[target].unique())
        columns.append(ColumnSpec(name=target, dtype="category", role="target", categories=values))
    return DataContract(columns=columns, target=target)


def mixed_bundle(family: str, task: str, params: dict[str, Any] | None = None) -> ModelBundle:
    """A ``family`` model fitted on :data:`FRAME` for ``task``."""
    target = {"binary": "label", "multiclass": "tier", "regression": "score"}[task]
    contract = mixed_contract(target)
    pipeline = get_family(family).build(contract, task, params, seed=0, n_jobs=1)  # type: ignore[arg-type]
    X = FRAME[contract.feature_names]
    if task == "regression":
        pipeline.fit(X, FRAME[target])
        return ModelBundle(pipeline=pipeline, contract=contract, task="regression", family=family)
    classes = sorted(FRAME[target].unique())
    pipeline.fit(X, FRAME[target].map({c: i for i, c in enumerate(classes)}).to_numpy())
    return ModelBundle(
        pipeline=pipeline,
        contract=contract,
        task=task,  # type: ignore[arg-type]
        classes=classes,
        positive_class=classes[-1] if task == "binary" else None,
        threshold=0.45,
        family=family,
    )


def wrapped_bundles() -> list[ModelBundle]:
    """Binary models wrapping pipelines: a calibrated LightGBM model, and a linear + LightGBM
    blend."""
    linear, lightgbm = mixed_bundle("linear", "binary"), mixed_bundle("lightgbm", "binary")
    calibrator = ProbabilityCalibrator("sigmoid")
    calibrator.fit(np.linspace(0.05, 0.95, 40), np.arange(40) % 3 == 0)
    blend = BlendedClassifier([linear.pipeline, lightgbm.pipeline], [0.3, 0.7])
    estimators = (CalibratedModel(lightgbm.pipeline, calibrator, 1), blend)
    return [ModelBundle(**{**vars(linear), "pipeline": estimator}) for estimator in estimators]
