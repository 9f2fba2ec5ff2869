"""Model outputs for the chunks of a batch job: ``ModelBundle.predict_frame``, made fast.

The model is compiled as for serving (:func:`~loopml.serve._compiled.compile_scores`), in its
batch form: preprocessing runs column by column on the chunk (a categorical column's distinct
values are encoded once), and a LightGBM model's trees run as machine code once they are
compiled, on every core. The first chunk is scored both ways and the compiled outputs
must equal ``predict_frame``'s (to :data:`~loopml.serve._compiled_predictor.TOLERANCE`);
otherwise, and for models the compiler does not understand, every chunk goes through
``predict_frame`` and the reason is logged.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from loopml.serve._compiled import ScoreFn, compile_scores
from loopml.serve._compiled_predictor import TOLERANCE
from loopml.train._bundle import UNSUPERVISED, ModelBundle

logger = logging.getLogger(__name__)

CHECK_ROWS = 2_000
"""Rows of the first chunk scored both ways before the compiled path is trusted."""

__all__ = ["BatchScorer"]


class BatchScorer:
    """``predict(frame)`` returns what ``bundle.predict_frame(frame)`` returns.

    Attributes:
        note: why chunks go through ``predict_frame`` ("" while the compiled path is used).
    """

    def __init__(self, bundle: ModelBundle) -> None:
        self._bundle = bundle
        self._scores: ScoreFn | None = None
        self._checked = False
        self.note = ""
        if bundle.task in UNSUPERVISED:
            self.note = f"{bundle.task} models are scored by their pipeline"
            return
        try:
            self._scores = compile_scores(
                bundle.pipeline, list(bundle.contract.columns), bundle.is_classifier, batch=True
            )
        except Exception as exc:  # NotCompilableError, or a fitted object the compiler misread
            self._drop(f"not compiled: {exc}")

    @property
    def compiled(self) -> bool:
        """Whether chunks are scored by the compiled model."""
        return self._scores is not None

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        if self._scores is not None and not self._checked:
            self._check(frame.iloc[:CHECK_ROWS])
        if self._scores is None:
            return self._bundle.predict_frame(frame)
        features = self._bundle.features(frame)
        return self._bundle.outputs(self._scores(features, len(features)), frame.index)

    def _check(self, sample: pd.DataFrame) -> None:
        """Score ``sample`` both ways; a difference sends every chunk through the pipeline.

        Raises:
            ValueError, TypeError: the pipeline refuses the sample (as it would unchecked).
        """
        self._checked = True
        expected = self._bundle.predict_frame(sample)
        assert self._scores is not None
        try:
            features = self._bundle.features(sample)
            actual = self._bundle.outputs(self._scores(features, len(features)), sample.index)
        except Exception as exc:  # the compiled path refuses what the pipeline accepts
            self._drop(f"the compiled model refuses rows the pipeline scores ({exc})")
            return
        for column in expected.columns:
            want, got = expected[column].to_numpy(), actual[column].to_numpy()
            if want.dtype.kind == "f":
                same = np.allclose(want, got, rtol=0.0, atol=TOLERANCE, equal_nan=True)
            else:
                same = bool((want == got).all())
            if not same:
                self._drop(f"the compiled model's {column!r} differs from the pipeline's")
                return

    def _drop(self, reason: str) -> None:
        self._scores = None
        self.note = reason
        logger.warning("Batch scoring goes through the model's pipeline: %s.", reason)
