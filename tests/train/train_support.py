"""Helpers for training tests: contracts built by hand from a frame, small synthetic data."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from loopml.data import ColumnSpec, DataContract


def dtype_of(column: pd.Series) -> Any:
    """The contract dtype a person would give ``column``."""
    if pd.api.types.is_bool_dtype(column):
        return "boolean"
    if pd.api.types.is_integer_dtype(column):
        return "integer"
    if pd.api.types.is_float_dtype(column):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(column):
        return "datetime"
    return "category"


def contract_for(frame: pd.DataFrame, target: str, **specs: dict[str, Any]) -> DataContract:
    """A contract with every column a feature except ``target``; ``specs`` override fields."""
    columns = [
        ColumnSpec(**{"name": name, "dtype": dtype_of(frame[name]), **specs.get(name, {})})
        for name in frame.columns
    ]
    return DataContract(columns=columns, target=target)


def signal_frame(n: int = 240, seed: int = 0) -> pd.DataFrame:
    """A binary problem with a clear signal: ``x`` and ``group`` drive ``label``."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    group = rng.choice(["a", "b", "c"], size=n)
    logit = 2.5 * x + np.where(group == "a", 1.5, -0.5)
    label = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "yes", "no")
    noise = rng.normal(size=n)
    return pd.DataFrame({"x": x, "group": group, "noise": noise, "label": label})
