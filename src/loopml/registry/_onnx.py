"""ONNX export of a whole loopml pipeline (preprocessing included), verified against scikit-learn.

loopml's own steps are mapped to ONNX where they are expressible: ``as_numbers`` and
``as_labels`` become identities (the ONNX graph takes one float input per numeric column and one
string input per categorical column, already in those forms), and :class:`CategoricalCodes`
becomes an identity on the ordinal codes. Steps with no ONNX equivalent (date parsing in
:class:`DatetimeParts`, text vectorizing) make the export fail with the step named.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer

from loopml.errors import DataError, InvalidInputError
from loopml.features import CategoricalCodes, as_labels, as_numbers
from loopml.features._transformers import MISSING_LABEL
from loopml.train import ModelBundle

TOLERANCE = 1e-4
"""Largest absolute difference between ONNX and scikit-learn outputs an export accepts."""


class _Passthrough(TransformerMixin, BaseEstimator):
    """Stands in for a loopml step that is the identity on the ONNX graph's typed inputs."""

    def __init__(self, step: str = "") -> None:
        self.step = step

    def fit(self, X: Any, y: Any = None) -> _Passthrough:
        return self

    def transform(self, X: Any) -> Any:
        return X


def _register_converters() -> None:
    from skl2onnx import update_registered_converter

    def shape(operator: Any) -> None:
        operator.outputs[0].type = operator.inputs[0].type.__class__(operator.inputs[0].type.shape)

    def convert(scope: Any, operator: Any, container: Any) -> None:
        container.add_node(
            "Identity",
            operator.inputs[0].full_name,
            operator.outputs[0].full_name,
            name=scope.get_unique_operator_name("LoopmlPassthrough"),
        )

    update_registered_converter(_Passthrough, "LoopmlPassthrough", shape, convert)
    update_registered_converter(
        MissingIndicator, "LoopmlMissingIndicator", _indicator_shape, _convert_indicator
    )
    from lightgbm import LGBMClassifier, LGBMRegressor
    from onnxmltools.convert.lightgbm.operator_converters.LightGbm import convert_lightgbm
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )

    update_registered_converter(
        LGBMClassifier,
        "LightGbmLGBMClassifier",
        calculate_linear_classifier_output_shapes,
        convert_lightgbm,
        options={"nocl": [True, False], "zipmap": [True, False, "columns"]},
    )
    update_registered_converter(
        LGBMRegressor,
        "LightGbmLGBMRegressor",
        calculate_linear_regressor_output_shapes,
        convert_lightgbm,
    )


def _indicator_shape(operator: Any) -> None:
    from skl2onnx.common.data_types import FloatTensorType

    rows = operator.inputs[0].type.shape[0]
    count = len(operator.raw_operator.features_)
    operator.outputs[0].type = FloatTensorType([rows, count])


def _convert_indicator(scope: Any, operator: Any, container: Any) -> None:
    """A fitted MissingIndicator (``missing_values`` NaN): 1.0 where a tracked column is NaN."""
    from onnx import TensorProto

    indices = scope.get_unique_variable_name("indicator_columns")
    container.add_initializer(
        indices,
        TensorProto.INT64,
        [len(operator.raw_operator.features_)],
        [int(i) for i in operator.raw_operator.features_],
    )
    picked = scope.get_unique_variable_name("indicator_picked")
    missing = scope.get_unique_variable_name("indicator_isnan")
    container.add_node(
        "Gather",
        [operator.inputs[0].full_name, indices],
        picked,
        axis=1,
        name=scope.get_unique_operator_name("Gather"),
    )
    container.add_node("IsNaN", picked, missing, name=scope.get_unique_operator_name("IsNaN"))
    container.add_node(
        "Cast",
        missing,
        operator.outputs[0].full_name,
        to=TensorProto.FLOAT,
        name=scope.get_unique_operator_name("Cast"),
    )


def _replace_steps(pipeline: Any) -> Any:
    """A copy of ``pipeline`` with loopml steps swapped for ONNX-expressible ones.

    Raises:
        InvalidInputError: a step has no ONNX equivalent (named in the message).
    """
    if isinstance(pipeline, Pipeline):
        pipeline.steps = [(name, _replace_step(name, step)) for name, step in pipeline.steps]
        return pipeline
    return _replace_step(type(pipeline).__name__, pipeline)


def _replace_step(name: str, step: Any) -> Any:
    if isinstance(step, Pipeline):
        return _replace_steps(step)
    if isinstance(step, ColumnTransformer):
        step.transformers_ = [
            (n, t if isinstance(t, str) else _replace_step(n, t), cols)
            for n, t, cols in step.transformers_
        ]
        return step
    if isinstance(step, FunctionTransformer) and step.func in (as_numbers, as_labels):
        return _Passthrough(name)
    if isinstance(step, CategoricalCodes):
        return _Passthrough(name)
    if isinstance(step, SimpleImputer) and step.fill_value == MISSING_LABEL:
        # The graph's string inputs arrive with missing labels already written as MISSING_LABEL.
        return _Passthrough(name)
    if isinstance(step, SimpleImputer) and getattr(step, "indicator_", None) is not None:
        # skl2onnx's imputer ignores add_indicator: express it as imputer + MissingIndicator.
        imputer = copy.copy(step)
        imputer.add_indicator = False
        imputer.indicator_ = None
        return FeatureUnion([("impute", imputer), ("indicator", step.indicator_)])
    if isinstance(step, FunctionTransformer) or type(step).__module__.startswith("loopml"):
        label = getattr(step, "func", None)
        what = (
            f"{type(step).__name__}({label.__name__})" if callable(label) else type(step).__name__
        )
        raise InvalidInputError(
            f"The pipeline step {name!r} ({what}) has no ONNX equivalent, so the model cannot be "
            "exported to ONNX.",
            hint="Export as skops or joblib, or train without that kind of column.",
        )
    return step


def _inputs(bundle: ModelBundle) -> list[tuple[str, Any]]:
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    inputs = []
    for spec in bundle.contract.feature_columns:
        if spec.role == "text" or spec.dtype == "datetime":
            step = "DatetimeParts" if spec.dtype == "datetime" else "text vectorizer"
            raise InvalidInputError(
                f"Column {spec.name!r} goes through {step}, which has no ONNX equivalent, so the "
                "model cannot be exported to ONNX.",
                hint="Export as skops or joblib, or train without that column.",
            )
        kind = FloatTensorType if spec.is_numeric else StringTensorType
        inputs.append((spec.name, kind([None, 1])))
    return inputs


def onnx_feeds(bundle: ModelBundle, frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """The ONNX model's inputs for ``frame``: float32 numbers (NaN if missing), label strings."""
    feeds: dict[str, np.ndarray] = {}
    features = bundle.features(frame)
    for spec in bundle.contract.feature_columns:
        column = features[[spec.name]]
        if spec.is_numeric:
            feeds[spec.name] = as_numbers(column).to_numpy(np.float32)
        else:
            labels = as_labels(column)
            feeds[spec.name] = labels.where(labels.notna(), MISSING_LABEL).to_numpy(object)
    return feeds


def to_onnx(bundle: ModelBundle, sample: pd.DataFrame | None) -> tuple[bytes, dict[str, Any]]:
    """The ONNX bytes of ``bundle``'s whole pipeline and the verification on ``sample``.

    Raises:
        InvalidInputError: a step or column has no ONNX equivalent (named).
        DataError: ONNX outputs differ from scikit-learn's by more than :data:`TOLERANCE`.
    """
    import onnxruntime
    import skl2onnx
    from skl2onnx import to_onnx as convert

    _register_converters()
    inputs = _inputs(bundle)
    pipeline = _replace_steps(copy.deepcopy(bundle.pipeline))
    options = {id(pipeline): {"zipmap": False}} if bundle.is_classifier else None
    try:
        model = convert(
            pipeline, initial_types=inputs, options=options, target_opset={"": 17, "ai.onnx.ml": 3}
        )
    except InvalidInputError:
        raise
    except Exception as exc:  # the converters raise bare RuntimeError/NotImplementedError
        raise InvalidInputError(
            f"The {bundle.family} pipeline cannot be converted to ONNX: {exc}",
            hint="Export as skops or joblib instead.",
        ) from exc
    data = model.SerializeToString()
    checks: dict[str, Any] = {
        "skl2onnx": skl2onnx.__version__,
        "onnxruntime": onnxruntime.__version__,
        "tolerance": TOLERANCE,
        "rows_verified": 0 if sample is None else len(sample),
    }
    if sample is not None and len(sample):
        difference = _max_difference(bundle, data, sample)
        checks["max_abs_difference"] = difference
        if not difference <= TOLERANCE:
            raise DataError(
                f"The ONNX model's outputs differ from scikit-learn's by up to {difference:.3g} "
                f"on the holdout, more than the tolerance {TOLERANCE}.",
                hint="Export as skops or joblib instead.",
            )
    return data, checks


def _max_difference(bundle: ModelBundle, data: bytes, sample: pd.DataFrame) -> float:
    import onnxruntime

    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    outputs = session.run(None, onnx_feeds(bundle, sample))
    if bundle.is_classifier:
        expected = bundle.predict_proba(sample)
        actual = np.asarray(outputs[1], dtype=float)
    else:
        expected = bundle.predict_frame(sample)["prediction"].to_numpy(float)
        actual = np.asarray(outputs[0], dtype=float).ravel()
    return float(np.max(np.abs(expected - actual))) if len(expected) else 0.0
