"""LightGBM scoring through the model's compiled library once it is built, else ``Booster.predict``.

:class:`CompiledTrees` asks :mod:`loopml.serve._tree_compiler` for a background build when it is
created, and checks for the library before each call, so a long job switches to it as soon as it
appears. Before the first use, the library scores the call's first rows and must agree with
``Booster.predict`` on them; a library that disagrees (a model feature the code generator reads
differently) is dropped with a warning and LightGBM keeps scoring. Results therefore never depend
on which path ran.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import numpy as np

from loopml.serve._tree_compiler import library_path, model_text, start_build

logger = logging.getLogger(__name__)

COMPILE_ENV = "LOOPML_COMPILE_TREES"
"""``0`` (or ``false``/``no``/``off``) stops new builds; a library already cached is still used."""

CHECK_ROWS = 512
"""Rows scored both ways when a library is first used."""

RTOL, ATOL = 1e-9, 1e-12
"""How closely the library must reproduce ``Booster.predict`` (both compute in float64)."""

__all__ = ["COMPILE_ENV", "CompiledTrees", "compile_trees_enabled"]


def compile_trees_enabled() -> bool:
    """Whether LightGBM models may be compiled (not switched off by ``LOOPML_COMPILE_TREES``)."""
    return os.environ.get(COMPILE_ENV, "1").strip().lower() not in {"0", "false", "no", "off"}


class CompiledTrees:
    """Outputs of a fitted ``lightgbm.Booster``, as ``booster.predict(X)`` returns them.

    ``score(X)`` takes a float64 matrix of the booster's features and returns shape ``(n,)`` for
    one output per row, ``(n, k)`` for multiclass. ``threads`` bounds the threads of either path
    (default: every core).
    """

    def __init__(self, booster: Any, threads: int | None = None, build: bool = True) -> None:
        self._booster = booster
        self._threads = threads or os.cpu_count() or 1
        text = model_text(booster)
        self._path = library_path(text)
        self._predictor: Any = None
        self._usable = True
        if build:
            start_build(text)

    @property
    def compiled(self) -> bool:
        """Whether calls now go through the compiled library."""
        return self._predictor is not None

    def score(self, X: np.ndarray) -> np.ndarray:
        if self._predictor is None and self._usable and self._path.exists():
            self._predictor = self._load(X)
        if self._predictor is None:
            return np.asarray(self._booster.predict(X, num_threads=self._threads))
        return self._run(self._predictor, X)

    def _run(self, predictor: Any, X: np.ndarray) -> np.ndarray:
        import tl2cgen

        matrix = tl2cgen.DMatrix(np.ascontiguousarray(X, dtype=np.float64))
        out = np.asarray(predictor.predict(matrix)).reshape(len(X), -1)
        return out[:, 0] if out.shape[1] == 1 else out

    def _load(self, X: np.ndarray) -> Any:
        """The library's predictor, if it loads and agrees with LightGBM on ``X``'s first rows."""
        try:
            import tl2cgen

            predictor = tl2cgen.Predictor(str(self._path), nthread=self._threads)
            sample = X[:CHECK_ROWS]
            ours = self._run(predictor, sample)
        except Exception as exc:  # a broken or foreign file in the cache
            self._usable = False
            logger.warning("The compiled trees at %s cannot be used: %s", self._path, exc)
            return None
        expected = np.asarray(self._booster.predict(sample, num_threads=self._threads))
        if ours.shape != expected.shape or not np.allclose(ours, expected, rtol=RTOL, atol=ATOL):
            self._usable = False
            logger.warning(
                "The compiled trees at %s disagree with LightGBM on this model; "
                "scoring stays with LightGBM.",
                self._path,
            )
            return None
        logger.info("Scoring with the compiled trees at %s", self._path)
        return predictor
