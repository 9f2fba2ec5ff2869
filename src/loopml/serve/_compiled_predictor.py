"""How a served model turns validated request values into outputs: compiled, ONNX or pipeline.

Every loaded model gets one :class:`Predictor` at load time (:func:`build_predictor`). The
*compiled* predictor (numpy code generated from the fitted pipeline) is used when the compiler
understands every step and its outputs equal the pipeline's to :data:`TOLERANCE` on the holdout
sample and on probe rows built from the contract (each known category, an unseen one, missing
values, the training range); otherwise the model is served through its scikit-learn pipeline
and the reason is logged and reported (``GET /ready``). The ONNX backend (``backend="onnx"``)
follows the same verification and fallback (see :mod:`loopml.serve._onnx_backend`).
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from loopml.errors import InvalidInputError, LoopmlError
from loopml.serve._compiled import NotCompilableError, compile_scores
from loopml.serve._compiled_blocks import Values
from loopml.serve._schema import RequestSchema
from loopml.train._bundle import UNSUPERVISED, ModelBundle, probability_column

logger = logging.getLogger(__name__)

TOLERANCE = 1e-9
"""Largest absolute difference between compiled and pipeline outputs a compiled model may show."""
VERIFY_ROWS = 100
"""Holdout rows the compiled path is checked on at load time (plus the contract's probe rows)."""

BACKENDS = ("sklearn", "onnx")
"""``sklearn``: compiled numpy code, else the pipeline. ``onnx``: ONNX Runtime, else sklearn."""

Outputs = dict[str, list[Any]]


class Predictor(abc.ABC):
    """Scores validated request values (column -> list, None for missing) of one model.

    Attributes:
        kind: ``compiled``, ``onnx`` or ``pipeline``.
        note: why a faster kind was not used ("" when none was refused).
    """

    kind: str
    note: str = ""

    @abc.abstractmethod
    def predict(self, values: Values, n: int) -> Outputs:
        """The output columns (``bundle.output_columns``) as JSON-native lists of ``n`` values.

        Raises:
            ValueError, TypeError: the model refuses the input (e.g. an unknown category of an
                encoder that errors on them).
        """


class PipelinePredictor(Predictor):
    """The scikit-learn pipeline on a DataFrame built from the values (always correct)."""

    kind = "pipeline"

    def __init__(self, bundle: ModelBundle, schema: RequestSchema, note: str = "") -> None:
        self._bundle, self._schema, self.note = bundle, schema, note

    def predict(self, values: Values, n: int) -> Outputs:
        predicted = self._bundle.predict_frame(self._schema.frame(values))
        return {str(c): _native(predicted[c]) for c in predicted.columns}


class ScoresPredictor(Predictor):
    """Outputs shaped from a scoring function's probabilities or values (as ``predict_frame``)."""

    def __init__(
        self, bundle: ModelBundle, scores: Callable[[Values, int], np.ndarray], kind: str
    ) -> None:
        self.kind = kind
        self._scores = scores
        self._classifier = bundle.is_classifier
        self._labels = [_python(c) for c in bundle.classes]
        self._columns = [probability_column(c) for c in bundle.classes]
        self._threshold = bundle.threshold
        self._positive = (
            bundle.classes.index(bundle.positive_class) if bundle.task == "binary" else None
        )

    def predict(self, values: Values, n: int) -> Outputs:
        scores = self._scores(values, n)
        if not self._classifier:
            return {"prediction": np.asarray(scores, dtype=float).reshape(-1).tolist()}
        by_class = scores.T.tolist()  # one list of probabilities per class
        labels = self._labels
        if self._positive is not None:
            threshold = self._threshold
            yes, no = labels[self._positive], labels[1 - self._positive]
            predicted = [yes if p >= threshold else no for p in by_class[self._positive]]
        else:
            predicted = [labels[i] for i in scores.argmax(axis=1).tolist()]
        out: Outputs = {"prediction": predicted}
        out.update(zip(self._columns, by_class, strict=True))
        return out


def build_predictor(
    bundle: ModelBundle,
    schema: RequestSchema,
    background: pd.DataFrame | None,
    backend: str = "sklearn",
    model_ref: str = "",
) -> Predictor:
    """The fastest verified predictor of ``bundle`` for ``backend`` (see the module docstring).

    Never raises for a model it cannot speed up: the reason is logged (with ``model_ref``) and
    kept in ``note``.

    Raises:
        InvalidInputError: ``backend`` is not one of :data:`BACKENDS`.
    """
    if backend not in BACKENDS:
        raise InvalidInputError(
            f"The 'backend' parameter must be one of {', '.join(BACKENDS)}. Got {backend!r}."
        )
    pipeline = PipelinePredictor(bundle, schema)
    if bundle.task in UNSUPERVISED:
        return _fallback(pipeline, model_ref, f"{bundle.task} models are served by the pipeline")
    try:
        rows = verification_values(schema, background)
    except LoopmlError as exc:
        return _fallback(pipeline, model_ref, f"no rows to verify a faster path on: {exc}")
    notes: list[str] = []
    if backend == "onnx":
        from loopml.serve._onnx_backend import onnx_predictor

        try:
            candidate: Predictor = onnx_predictor(bundle, schema, background)
            _verify(candidate, pipeline, rows, tolerance=candidate_tolerance(candidate))
            logger.info("Model %s is served by ONNX Runtime.", model_ref)
            return candidate
        except Exception as exc:  # converters and onnxruntime raise many types; all mean "no"
            notes.append(f"ONNX unavailable ({_sentence(exc)}); served by the sklearn backend")
    try:
        scores = compile_scores(bundle.pipeline, list(schema.columns), bundle.is_classifier)
        compiled = ScoresPredictor(bundle, scores, "compiled")
        _verify(compiled, pipeline, rows, tolerance=TOLERANCE)
    except NotCompilableError as exc:
        notes.append(f"not compiled: {exc}")
        return _fallback(pipeline, model_ref, "; ".join(notes))
    except Exception as exc:  # a fitted object the compiler misread: never fail the load
        notes.append(f"not compiled: {_sentence(exc)}")
        return _fallback(pipeline, model_ref, "; ".join(notes))
    compiled.note = "; ".join(notes)
    if compiled.note:
        logger.warning("Model %s: %s.", model_ref, compiled.note)
    return compiled


def candidate_tolerance(predictor: Predictor) -> float:
    """The verification tolerance of a predictor kind (ONNX computes in float32)."""
    if predictor.kind == "onnx":
        from loopml.registry._onnx import TOLERANCE as ONNX_TOLERANCE

        return ONNX_TOLERANCE
    return TOLERANCE


def _fallback(pipeline: PipelinePredictor, model_ref: str, note: str) -> PipelinePredictor:
    pipeline.note = note
    logger.warning("Model %s is served through its scikit-learn pipeline: %s.", model_ref, note)
    return pipeline


def _sentence(exc: BaseException) -> str:
    return str(exc).strip().rstrip(".").split("\n")[0]


class VerificationError(ValueError):
    """A faster predictor's outputs differ from the pipeline's."""


def _verify(
    candidate: Predictor, reference: Predictor, rows: list[Values], tolerance: float
) -> None:
    """Check ``candidate`` against ``reference`` on each batch of ``rows``; both must refuse the
    same batches, and agree on every output of the others.

    Raises:
        VerificationError: an output differs (by more than ``tolerance`` for numbers).
    """
    for values in rows:
        n = len(next(iter(values.values()), []))
        try:
            expected = reference.predict(values, n)
        except (ValueError, TypeError, LoopmlError):
            try:
                candidate.predict(values, n)
            except (ValueError, TypeError):
                continue
            raise VerificationError("it accepts input the pipeline refuses") from None
        try:
            actual = candidate.predict(values, n)
        except Exception as exc:  # a backend's own error types (onnxruntime's Fail, …)
            raise VerificationError(
                f"it refuses input the pipeline accepts ({_sentence(exc)})"
            ) from None
        for column, wanted in expected.items():
            _compare(column, wanted, actual.get(column), tolerance)


def _compare(column: str, wanted: list[Any], got: list[Any] | None, tolerance: float) -> None:
    if got is None or len(got) != len(wanted):
        raise VerificationError(f"output {column!r} is missing or of another length")
    if column.startswith("probability_") or all(isinstance(v, float) for v in wanted):
        a, b = np.asarray(wanted, dtype=float), np.asarray(got, dtype=float)
        same_nan = np.isnan(a) == np.isnan(b)
        gap = np.nanmax(np.abs(a - b), initial=0.0)
        if not same_nan.all() or not gap <= tolerance:
            raise VerificationError(f"output {column!r} differs by up to {gap:.3g}")
    elif list(wanted) != list(got):
        raise VerificationError(f"output {column!r} differs")


def verification_values(schema: RequestSchema, background: pd.DataFrame | None) -> list[Values]:
    """Batches of validated values to check a predictor on: holdout rows (validated like
    requests; rows a request could not carry are skipped), then one probe batch per column
    (each known category, an unseen one, missing where allowed, the training range) on top of
    the contract's example record, each probe value in its own batch so one refused value
    does not hide the others."""
    batches: list[Values] = []
    if background is not None and len(background):
        sample = background.head(VERIFY_ROWS)
        records = sample.astype(object).where(sample.notna(), None).to_dict(orient="records")
        valid = []
        for record in records:
            try:
                schema.validate([record])
            except LoopmlError:
                continue
            valid.append(record)
        if valid:
            batches.append(schema.validate(valid))
    example = schema.example_record()
    probes: list[dict[str, Any]] = [example]
    singles: list[dict[str, Any]] = [example]  # one-record requests take their own fast path
    for spec in schema.columns:
        for value in _probe_values(spec):
            probes.append({**example, spec.name: value})
        if spec.dtype in ("category", "string"):
            singles.append({**example, spec.name: "unseen category value"})
        if spec.dtype == "datetime":
            singles.append({**example, spec.name: "2024-12-31T23:59:59+02:00"})
    batches.append(schema.validate(probes))
    batches.extend(schema.validate([record]) for record in singles)
    return batches


def _probe_values(spec: Any) -> list[Any]:
    values: list[Any] = []
    if spec.categories:
        values.extend(spec.categories)
    if spec.is_numeric:
        values.extend(v for v in (spec.min, spec.max) if v is not None)
        if spec.dtype == "integer":
            values = [round(v) for v in values]
    if spec.dtype == "boolean":
        values.extend([True, False])
    if spec.dtype == "datetime":
        values.append("2021-03-04T05:06:07")
    if spec.max_null_share > 0:
        values.append(None)
    return values


def _native(column: pd.Series) -> list[Any]:
    """The column as JSON-native Python values (numpy scalars unwrapped)."""
    values = column.tolist()
    if column.dtype != object:
        return values
    return [_python(v) for v in values]


def _python(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
