"""The ONNX Runtime backend: a served model converted to ONNX at load time and run by onnxruntime.

The whole pipeline (preprocessing included) is converted by :func:`loopml.registry.to_onnx`
semantics (:mod:`loopml.registry._onnx`), which checks it against scikit-learn on the holdout
sample; the graph then takes one ``[n, 1]`` tensor per contract column: float32 numbers (NaN when
missing) and label strings (``__missing__`` when missing). A model that cannot be converted falls
back to the sklearn backend (see :func:`loopml.serve._compiled_predictor.build_predictor`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from loopml.features._transformers import MISSING_LABEL, _label
from loopml.serve._compiled_blocks import Values
from loopml.serve._compiled_predictor import ScoresPredictor
from loopml.serve._schema import RequestSchema
from loopml.train._bundle import ModelBundle


def onnx_predictor(
    bundle: ModelBundle, schema: RequestSchema, background: pd.DataFrame | None
) -> ScoresPredictor:
    """A predictor running ``bundle`` converted to ONNX (single-threaded sessions).

    Raises:
        InvalidInputError: a step or column has no ONNX equivalent (named).
        DataError: the converted model disagrees with scikit-learn on ``background``.
    """
    import onnxruntime

    from loopml.registry._onnx import to_onnx

    data, _checks = to_onnx(bundle, background)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(
        data, sess_options=options, providers=["CPUExecutionProvider"]
    )
    feeds = _feeds(schema)
    classifier = bundle.is_classifier

    def scores(values: Values, n: int) -> np.ndarray:
        outputs = session.run(None, feeds(values, n))
        if classifier:
            return np.asarray(outputs[1], dtype=np.float64)
        return np.asarray(outputs[0], dtype=np.float64).reshape(-1)

    return ScoresPredictor(bundle, scores, "onnx")


def _feeds(schema: RequestSchema) -> Any:
    numeric = [spec.name for spec in schema.columns if spec.is_numeric]
    labels = [spec.name for spec in schema.columns if not spec.is_numeric]

    def feeds(values: Values, n: int) -> dict[str, np.ndarray]:
        out = {name: np.array(values[name], dtype=np.float32).reshape(n, 1) for name in numeric}
        for name in labels:
            texts = [_text(v) for v in values[name]]
            out[name] = np.array(texts, dtype=object).reshape(n, 1)
        return out

    return feeds


def _text(value: Any) -> str:
    label = _label(value)
    return label if isinstance(label, str) else MISSING_LABEL
