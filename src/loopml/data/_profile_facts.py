"""Dataset-level facts of a profile: duplicated rows, missingness patterns, column warnings."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from loopml.data._leakage import DataWarning

HIGH_CARDINALITY = 50
HIGH_MISSING_SHARE = 0.5
SKEW_LIMIT = 2.0
TOP_PATTERNS = 10
_MAX_PATTERN_COLUMNS = 63


_NAN_BITS = np.array(np.nan).view("uint64")
_MIX = (
    (np.uint64(30), np.uint64(0xBF58476D1CE4E5B9)),
    (np.uint64(27), np.uint64(0x94D049BB133111EB)),
    (np.uint64(31), None),
)
_BLOCK = 1 << 15


def column_hashes(series: pd.Series, codes: np.ndarray | None = None) -> np.ndarray | None:
    """A 64-bit hash of each value of ``series``, equal for equal values (all missing values
    equal, ``-0.0 == 0.0``), as ``pandas.util.hash_pandas_object`` gives; None when the values
    cannot be hashed (lists, dicts). ``codes`` (from factorising the column, ``-1`` for
    missing) may stand for the values; float64 columns are hashed from their bits in place."""
    if codes is not None:
        keys = np.asarray(codes).astype("uint64")  # -1 wraps to one key for every missing value
    elif series.dtype == np.dtype("float64"):
        values = series.to_numpy()
        keys = values.view("uint64").copy()
        keys[np.isnan(values)] = _NAN_BITS
        keys[values == 0.0] = 0  # -0.0
    else:
        try:
            return pd.util.hash_pandas_object(series, index=False).to_numpy()
        except TypeError:
            return None
    # pandas' mix of 64-bit keys (splitmix64's finaliser), in place a block at a time (the
    # block stays in cache through the five steps).
    scratch = np.empty(min(len(keys), _BLOCK), dtype="uint64")
    for start in range(0, len(keys), _BLOCK):
        block = keys[start : start + _BLOCK]
        spare = scratch[: len(block)]
        for shift, factor in _MIX:
            np.right_shift(block, shift, out=spare)
            block ^= spare
            if factor:
                block *= factor
    return keys


class RowFacts:
    """What the column pass gathers for the dataset-level facts, one column at a time: a 64-bit
    hash of every row (combined from each column's value hashes) and each column's missing
    cells (bit-packed), so duplicates and missingness patterns need no second pass."""

    _PRIME = np.uint64(0x100000001B3)

    def __init__(self, n_rows: int) -> None:
        self.n_rows = n_rows
        self.hashes: np.ndarray | None = np.zeros(n_rows, dtype="uint64")
        self.missing: dict[str, np.ndarray] = {}
        self.all_distinct = False
        """Some column's values are all present and different: no row can repeat another."""

    def add(
        self,
        name: str,
        series: pd.Series,
        n_missing: int,
        hashes: np.ndarray | None,
        *,
        unique: bool = False,
    ) -> None:
        """Fold ``series`` (the whole column ``name``, with ``n_missing`` missing cells, and the
        hash of each value from :func:`column_hashes`) in. ``unique``: every value of the column
        is present and different, so no row repeats and hashes are no longer needed."""
        if n_missing:
            self.missing[name] = np.packbits(series.isna().to_numpy())
        if unique:
            self.all_distinct, self.hashes = True, None
        if self.hashes is None:
            return
        if hashes is None:  # lists, dicts: rows cannot be compared
            self.hashes = None
            return
        self.hashes ^= hashes
        self.hashes *= self._PRIME

    def duplicate_rows(self) -> int | None:
        """Rows that repeat an earlier row exactly (every column equal); None when some column
        holds values that cannot be compared. Rows are compared by their 64-bit hash, so a
        count can only be off by a collision (probability ~n²/2**65, about 3e-8 for a million
        rows)."""
        if self.all_distinct:
            return 0
        if self.hashes is None:
            return None
        ordered = np.sort(self.hashes)
        return int(np.count_nonzero(ordered[1:] == ordered[:-1]))

    def missing_patterns(self, names: list[str], counts: dict[str, int]) -> dict[str, Any]:
        """Missing values per column (``counts``), rows with any missing value, and the most
        common patterns (which columns are missing together) with their row counts."""
        with_missing = [name for name in names if counts[name] > 0]
        with_missing.sort(key=lambda c: -counts[c])
        tracked = with_missing[:_MAX_PATTERN_COLUMNS]
        codes = np.zeros(self.n_rows, dtype="uint64")
        for bit, name in enumerate(tracked):
            mask = np.unpackbits(self.missing[name], count=self.n_rows)
            codes |= mask.astype("uint64") << np.uint64(bit)
        values, sizes = np.unique(codes, return_counts=True)
        top = np.argsort(-sizes, kind="stable")[:TOP_PATTERNS]
        patterns = [
            {
                "columns": [n for bit, n in enumerate(tracked) if int(values[i]) >> bit & 1],
                "rows": int(sizes[i]),
            }
            for i in top
        ]
        cells = sum(counts.values())
        size = self.n_rows * len(names)
        return {
            "cells": int(cells),
            "cells_share": float(cells / size) if size else 0.0,
            "rows_with_missing": int((codes != 0).sum()),
            "columns": {name: int(counts[name]) for name in with_missing},
            "patterns": patterns,
        }


def column_warnings(name: str, kind: str, stats: dict[str, Any]) -> list[DataWarning]:
    """Constant, empty, mostly missing, high-cardinality and skewed columns."""
    found: list[DataWarning] = []
    if stats["count"] == 0:
        return [DataWarning("empty", name, f"{name!r} has no values; drop it.")]
    if stats["distinct"] <= 1:
        found.append(
            DataWarning(
                "constant", name, f"{name!r} has a single value, so it carries no information."
            )
        )
    if stats["missing_share"] > HIGH_MISSING_SHARE:
        found.append(
            DataWarning(
                "missing",
                name,
                f"{name!r} is missing in {stats['missing_share']:.0%} of rows; check how it is "
                "collected, or drop it.",
            )
        )
    if kind in ("category", "text") and stats["distinct"] > HIGH_CARDINALITY:
        found.append(
            DataWarning(
                "high_cardinality",
                name,
                f"{name!r} has {stats['distinct']} distinct values; group rare ones, or treat it "
                "as text or an identifier.",
            )
        )
    skew = stats.get("skew")
    if kind == "number" and skew is not None and abs(skew) > SKEW_LIMIT:
        found.append(
            DataWarning(
                "skew",
                name,
                f"{name!r} is highly skewed (skewness {skew:.1f}); a log or rank transform may "
                "help linear models.",
            )
        )
    return found
