"""Derived features declared in the charter, computed inside the model's pipeline.

:class:`DerivedFeatures` is the first step of a pipeline whose charter declares derived
features: it appends one float column per feature to the input frame, so training, batch
scoring and serving compute them the same way from the raw columns.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from loopml.errors import InvalidInputError
from loopml.features._expressions import Program, columns_of, evaluate, parse_expression
from loopml.features._transformers import _as_frame

DerivedSpec = tuple[str, str]
"""A derived feature as ``(name, expression)``."""


def check_derived(
    derived: Sequence[DerivedSpec], numeric: Collection[str], others: Collection[str] = ()
) -> list[Program]:
    """Parse every derived feature; each may read ``numeric`` columns and earlier features.

    ``others`` are the model's non-numeric columns (named in a clearer message).

    Raises:
        InvalidInputError: a bad expression (see :func:`parse_expression`), a name clashing
            with a column, or an expression reading a non-numeric column.
    """
    readable = set(numeric)
    taken = set(numeric) | set(others)
    programs = []
    for name, expr in derived:
        if name in taken:
            raise InvalidInputError(
                f"The derived feature {name!r} has the name of an existing column.",
                hint="Give the derived feature a new name.",
            )
        program = parse_expression(name, expr, readable | set(others))
        text = sorted(columns_of(program) & set(others))
        if text:
            raise InvalidInputError(
                f"The derived feature {name!r} reads {', '.join(map(repr, text))}, which is "
                "not a numeric column.",
                hint="Derived features are arithmetic on numeric columns.",
            )
        programs.append(program)
        readable.add(name)
        taken.add(name)
    return programs


class DerivedFeatures(TransformerMixin, BaseEstimator):
    """Append derived columns computed by safe arithmetic expressions.

    Expressions read the input's columns as float64 (values that are not numbers become NaN)
    and the features declared before them; undefined results (division by zero, log of a
    non-positive number) are NaN, left to the model's imputation. Output: the input columns
    followed by one column per feature, in declaration order.

    Args:
        features: ``(name, expression)`` pairs; see :mod:`loopml.features._expressions`.
    """

    def __init__(self, features: Sequence[DerivedSpec] = ()) -> None:
        self.features = features

    def fit(self, X: Any, y: Any = None) -> DerivedFeatures:
        """Check the expressions against ``X``'s columns.

        Raises:
            InvalidInputError: an expression is invalid or reads a missing column.
        """
        frame = _as_frame(X)
        names = [str(c) for c in frame.columns]
        self.programs_ = check_derived([tuple(f) for f in self.features], names)  # type: ignore[misc]
        self.feature_names_in_ = np.asarray(names, dtype=object)
        self.n_features_in_ = len(names)
        return self

    def transform(self, X: Any) -> pd.DataFrame:
        check_is_fitted(self, "programs_")
        frame = _as_frame(X, list(self.feature_names_in_))
        needed = set().union(*(columns_of(p) for p in self.programs_))
        values = {
            name: pd.to_numeric(frame[name], errors="coerce").to_numpy(
                dtype="float64", na_value=np.nan
            )
            for name in needed
            if name in frame.columns
        }
        out = {}
        for (name, _), program in zip(self.features, self.programs_, strict=True):
            values[name] = out[name] = evaluate(program, values, len(frame))
        derived = pd.DataFrame(out, index=frame.index)
        return pd.concat([frame, derived], axis=1)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "programs_")
        names = list(self.feature_names_in_ if input_features is None else input_features)
        return np.asarray([*names, *(name for name, _ in self.features)], dtype=object)
