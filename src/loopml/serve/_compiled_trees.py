"""LightGBM scoring through the model's trees as tables or machine code, else ``Booster.predict``.

:class:`CompiledTrees` first lays the trees out as bit-vector tables
(:mod:`loopml.serve._tree_tables`, a fraction of a second), which score fastest. A model they
cannot hold (trees of more than 64 leaves, say) is compiled to machine code instead: it asks
:mod:`loopml.serve._tree_compiler` for a background build when it is created, and checks for the
object before each call, so a long job switches to it as soon as it appears. The object is
linked into the process by LLVM's loader (MCJIT), and must declare the model's number of features
and outputs. Before their first use, tables or object score the call's
first rows and must agree with ``Booster.predict`` on them. Tables that fail go over to the
machine-code path; an object that fails (a model feature the code generator reads differently, a
foreign file) is dropped with a warning and LightGBM keeps scoring. Results therefore never depend
on which path ran.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from loopml.serve._tree_compiler import (
    ENTRY,
    FEATURES_SYMBOL,
    OUTPUTS_SYMBOL,
    library_path,
    model_text,
    start_build,
    target_machine,
    unseal,
)

if TYPE_CHECKING:  # the tables' module imports numba: only when a LightGBM model is scored
    from loopml.serve._tree_tables import TreeTables

logger = logging.getLogger(__name__)

COMPILE_ENV = "LOOPML_COMPILE_TREES"
"""``0`` (or ``false``/``no``/``off``) stops new builds; an object already cached is still used."""

CHECK_ROWS = 512
"""Rows scored both ways when an object is first used."""

RTOL, ATOL = 1e-9, 1e-12
"""How closely the object must reproduce ``Booster.predict`` (both compute in float64)."""

PARALLEL_ROWS = 8_192
"""Calls with fewer rows run on the calling thread; thread hand-off costs more than it saves."""

MAX_SPAN = 1 << 30
"""Rows per call of the compiled function, whose row indices are 32-bit."""

__all__ = ["COMPILE_ENV", "CompiledTrees", "TableScorer", "compile_trees_enabled", "tables_for"]

_Entry = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int32, ctypes.c_int32)
"""``forest_root``'s C signature; ctypes releases the GIL while it runs."""


def compile_trees_enabled() -> bool:
    """Whether LightGBM models may be compiled (not switched off by ``LOOPML_COMPILE_TREES``)."""
    return os.environ.get(COMPILE_ENV, "1").strip().lower() not in {"0", "false", "no", "off"}


class CompiledTrees:
    """Outputs of a fitted ``lightgbm.Booster``, as ``booster.predict(X)`` returns them.

    ``score(X)`` takes a float64 matrix of the booster's features and returns shape ``(n,)`` for
    one output per row, ``(n, k)`` for multiclass. ``threads`` bounds the threads of every path
    (default: every core). ``tables=False`` skips the tables, ``build=False`` starts no build of
    machine code (one already cached is still used). Safe to call from several threads at once.
    """

    def __init__(
        self, booster: Any, threads: int | None = None, build: bool = True, tables: bool = True
    ) -> None:
        self._booster = booster
        self._threads = threads or os.cpu_count() or 1
        self._features = int(booster.num_feature())
        self._outputs = int(booster.num_model_per_iteration())
        self._text = model_text(booster)
        self._path = library_path(self._text)
        self._build = build
        self._tables = _tables(self._text) if tables else None
        self._forest: _Forest | _TableForest | None = None
        self._usable = True
        self._lock = threading.Lock()
        if self._tables is None and build:
            start_build(self._text)

    @property
    def kind(self) -> str:
        """``tables``, ``machine code`` or ``lightgbm``: what scores calls now."""
        if isinstance(self._forest, _TableForest):
            return "tables"
        return "lightgbm" if self._forest is None else "machine code"

    @property
    def compiled(self) -> bool:
        """Whether calls now go through the compiled trees."""
        return self._forest is not None

    def score(self, X: np.ndarray) -> np.ndarray:
        forest = self._forest
        ready = self._tables is not None or self._path.exists()
        if forest is None and self._usable and len(X) and ready:
            with self._lock:
                if self._forest is None and self._usable:
                    self._forest = self._load(X)
                forest = self._forest
        if forest is None:
            return np.asarray(self._booster.predict(X, num_threads=self._threads))
        return forest.score(X, self._threads)

    def _load(self, X: np.ndarray) -> _Forest | _TableForest | None:
        """The tables or the compiled forest, if it loads, has the model's shape and agrees with
        LightGBM on ``X``'s first rows."""
        if self._tables is not None:
            tables = _TableForest(self._tables)
            expected = np.asarray(self._booster.predict(X[:CHECK_ROWS], num_threads=self._threads))
            got = tables.score(X[:CHECK_ROWS], 1)
            if got.shape == expected.shape and np.allclose(got, expected, rtol=RTOL, atol=ATOL):
                logger.info("Scoring with the model's trees as bit-vector tables")
                return tables
            logger.warning("The trees' tables disagree with LightGBM; compiling them instead.")
            self._tables = None
            if self._build:
                start_build(self._text)
            return self._forest_from_file(X) if self._path.exists() else None
        return self._forest_from_file(X)

    def _forest_from_file(self, X: np.ndarray) -> _Forest | None:
        try:
            forest = _Forest(self._path)
            if (forest.features, forest.outputs) != (self._features, self._outputs):
                raise ValueError(
                    f"it takes {forest.features} features and gives {forest.outputs} outputs, "
                    f"the model {self._features} and {self._outputs}"
                )
            sample = X[:CHECK_ROWS]
            ours = forest.score(sample, 1)
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
        return forest


class TableScorer:
    """Serving's scorer: the tables on the calling thread, ``Booster.predict``'s outputs.

    A record takes about 7 microseconds on the benchmark's 300 trees, where LightGBM's
    single-row fast path takes 35. Its results are checked with the rest of the compiled
    pipeline when the model loads (:mod:`loopml.serve._compiled_predictor`).
    """

    def __init__(self, tables: TreeTables) -> None:
        from loopml.serve._tree_tables import row_transform

        self._tables = tables
        self._many = _TableForest(tables)
        self._transform_row = row_transform(tables.objective, tables.average_over)

    def score(self, X: np.ndarray) -> np.ndarray:
        if len(X) != 1:
            return self._many.score(X, 1)
        tables = self._tables
        rows = _matrix(X, tables.n_features)
        raw = np.empty((1, tables.n_outputs))
        tables.raw_scores_into(rows, raw, 0, 1)
        out = np.array([self._transform_row(raw[0].tolist())])
        return out[:, 0] if tables.n_outputs == 1 else out


def tables_for(booster: Any) -> TreeTables | None:
    """The booster's trees as tables, or ``None`` (logged) when they cannot be used here."""
    return _tables(model_text(booster))


def _tables(text: str) -> TreeTables | None:
    """The model's trees as tables, or ``None`` (logged) when the layout cannot hold them or
    their kernel cannot run here (numba cannot compile it, or finds no folder to cache it in).
    One row is scored at once, so numba compiles (or loads) the kernel now, not mid-request."""
    from loopml.serve._tree_tables import UnsupportedModel, build_tables

    try:
        tables = build_tables(text)
    except UnsupportedModel as exc:
        logger.info("The trees are compiled to machine code: no tables for them, as %s.", exc)
        return None
    try:
        tables.raw_scores(np.zeros((1, tables.n_features)))
    except Exception as exc:  # numba's compiler or cache, whatever it raises
        logger.warning("The trees' tables cannot run here (%s); LightGBM scores instead.", exc)
        return None
    return tables


class _TableForest:
    """:class:`~loopml.serve._tree_tables.TreeTables` scoring, rows split across threads."""

    def __init__(self, tables: TreeTables) -> None:
        self._tables = tables

    def score(self, X: np.ndarray, threads: int) -> np.ndarray:
        tables = self._tables
        rows = _matrix(X, tables.n_features)
        n = len(rows)
        out = np.empty((n, tables.n_outputs))
        _run(_spans(n, threads), lambda a, b: tables.raw_scores_into(rows, out[a:b], a, b))
        tables.transform(out)
        return out[:, 0] if tables.n_outputs == 1 else out


def _matrix(X: np.ndarray, features: int) -> np.ndarray:
    """``X`` as a C-contiguous float64 matrix of ``features`` columns (ValueError otherwise)."""
    rows = np.ascontiguousarray(X, dtype=np.float64)
    if rows.ndim != 2 or rows.shape[1] != features:
        raise ValueError(f"expected rows of {features} features, got {rows.shape}")
    return rows


def _run(spans: list[tuple[int, int]], work: Callable[[int, int], object]) -> None:
    """``work(start, stop)`` for each span: on this thread for one, else on the pool."""
    if len(spans) == 1:
        work(*spans[0])
    else:
        list(_pool().map(lambda span: work(*span), spans))


def _spans(n: int, threads: int) -> list[tuple[int, int]]:
    """``n`` rows in up to ``threads`` spans (one below :data:`PARALLEL_ROWS`)."""
    step = min(MAX_SPAN, -(-n // threads) if n >= PARALLEL_ROWS else n) or 1
    return [(start, min(start + step, n)) for start in range(0, n, step)]


class _Forest:
    """A compiled object linked into this process: its entry point and declared shape."""

    def __init__(self, path: Path) -> None:
        import llvmlite.binding as llvm

        engine = llvm.create_mcjit_compiler(llvm.parse_assembly(""), target_machine())
        engine.add_object_file(llvm.ObjectFileRef.from_data(unseal(path.read_bytes())))
        engine.finalize_object()
        addresses = [engine.get_global_value_address(s) for s in (FEATURES_SYMBOL, OUTPUTS_SYMBOL)]
        entry = engine.get_function_address(ENTRY)
        if not entry or not all(addresses):
            raise ValueError(f"it lacks {ENTRY} or its shape")
        self._engine = engine  # owns the code: it lives as long as this object
        self.features, self.outputs = (ctypes.c_int32.from_address(a).value for a in addresses)
        self._entry = _Entry(entry)

    def score(self, X: np.ndarray, threads: int) -> np.ndarray:
        """Outputs of the rows of ``X`` (shape as ``Booster.predict``), on up to ``threads``."""
        rows = _matrix(X, self.features)
        n = len(rows)
        out = np.empty((n, self.outputs))
        data, target = rows.ctypes.data, out.ctypes.data
        _run(_spans(n, threads), lambda a, b: self._entry(data, target, a, b))
        return out[:, 0] if self.outputs == 1 else out


@functools.cache
def _pool() -> ThreadPoolExecutor:
    """The process's pool for compiled trees, a thread per core (the compiled code releases the
    GIL); a call splits its rows into at most ``threads`` spans, which bounds its share."""
    return ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="loopml-trees")
