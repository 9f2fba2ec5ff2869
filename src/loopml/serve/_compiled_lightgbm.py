"""LightGBM scoring of compiled models: the C API's single-row fast path, else ``Booster.predict``.

``Booster.predict`` builds a predictor object and parses parameters on every call, which costs
more than walking the trees of one record. LightGBM's C API has a path made for this case
(``LGBM_BoosterPredictForMatSingleRowFast``): the configuration is prepared once and each call
only scores. It is used for one-record requests (each thread gets its own configuration and
output buffer, so concurrent requests share nothing mutable); larger requests, and any failure
to set the fast path up, use ``Booster.predict`` (one thread for small requests).
"""

from __future__ import annotations

import ctypes
import logging
import threading
import weakref
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)


class BoosterScorer:
    """Raw outputs of a fitted ``lightgbm.Booster`` (probabilities or values, not raw scores).

    ``score(X)`` returns what ``booster.predict(X)`` returns: shape ``(n,)`` for one output per
    row, ``(n, k)`` for multiclass.
    """

    def __init__(self, booster: Any, n_features: int, single_threshold: int) -> None:
        self._booster = booster
        self._n_features = n_features
        self._outputs = int(booster.num_model_per_iteration())
        self._single_threshold = single_threshold
        self._local = threading.local()
        self._fast = _fast_api()

    def score(self, X: np.ndarray) -> np.ndarray:
        n = X.shape[0]
        if n == 1 and self._fast is not None:
            try:
                return self._score_one(X)
            except _FastPathError:
                self._fast = None
        if n <= self._single_threshold:
            return np.asarray(self._booster.predict(X, num_threads=1))
        return np.asarray(self._booster.predict(X))

    def _score_one(self, X: np.ndarray) -> np.ndarray:
        state = getattr(self._local, "state", None)
        if state is None:
            state = self._local.state = _FastState(self._booster, self._n_features, self._outputs)
        state.row[:] = X[0]
        lib, check = self._fast  # type: ignore[misc]
        check(
            lib.LGBM_BoosterPredictForMatSingleRowFast(
                state.config, state.row_pointer, state.length, state.buffer_pointer
            )
        )
        out = state.buffer.copy()
        return out if self._outputs == 1 else out.reshape(1, self._outputs)


class _FastPathError(Exception):
    pass


def _fast_api() -> tuple[Any, Any] | None:
    try:
        from lightgbm import basic

        return basic._LIB, basic._safe_call
    except (ImportError, AttributeError):
        return None


class _FastState:
    """One thread's prepared configuration and output buffer (freed with the object)."""

    def __init__(self, booster: Any, n_features: int, outputs: int) -> None:
        try:
            from lightgbm import basic

            self.config = ctypes.c_void_p()
            basic._safe_call(
                basic._LIB.LGBM_BoosterPredictForMatSingleRowFastInit(
                    booster._handle,
                    ctypes.c_int(basic._C_API_PREDICT_NORMAL),
                    ctypes.c_int(0),
                    ctypes.c_int(int(booster.best_iteration or 0) or -1),
                    ctypes.c_int(basic._C_API_DTYPE_FLOAT64),
                    ctypes.c_int32(n_features),
                    basic._c_str("num_threads=1"),
                    ctypes.byref(self.config),
                )
            )
            weakref.finalize(self, basic._LIB.LGBM_FastConfigFree, self.config)
        except Exception as exc:  # private LightGBM names moved, or the C call failed
            logger.warning("LightGBM's single-row fast path is unavailable: %s", exc)
            raise _FastPathError from exc
        # The input row and output buffers, and their C pointers, are made once per thread.
        self.row = np.empty(n_features, dtype=np.float64)
        self.row_pointer = self.row.ctypes.data_as(ctypes.c_void_p)
        self.buffer = np.empty(outputs, dtype=np.float64)
        self.buffer_pointer = self.buffer.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
        self.length = ctypes.byref(ctypes.c_int64(0))
