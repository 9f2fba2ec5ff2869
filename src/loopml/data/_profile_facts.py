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


def duplicate_rows(frame: pd.DataFrame) -> int | None:
    """Rows that repeat an earlier row exactly (every column equal); None when some column
    holds values that cannot be compared (lists, dicts).

    Rows are compared by a 64-bit hash of all their values, so a count can only be off by a hash
    collision (probability ~n²/2**65, about 3e-8 for a million rows).
    """
    try:
        hashes = pd.util.hash_pandas_object(frame, index=False)
    except TypeError:
        try:
            return int(frame.duplicated().sum())
        except TypeError:
            return None
    return int(hashes.duplicated().sum())


def missing_patterns(frame: pd.DataFrame) -> dict[str, Any]:
    """Missing values per column, rows with any missing value, and the most common patterns
    (which columns are missing together) with their row counts."""
    counts = frame.isna().sum()
    with_missing = [str(c) for c in counts.index if counts[c] > 0]
    with_missing.sort(key=lambda c: -int(counts[c]))
    tracked = with_missing[:_MAX_PATTERN_COLUMNS]
    codes = np.zeros(len(frame), dtype="uint64")
    for bit, name in enumerate(tracked):
        codes |= frame[name].isna().to_numpy().astype("uint64") << np.uint64(bit)
    values, sizes = np.unique(codes, return_counts=True)
    top = np.argsort(-sizes, kind="stable")[:TOP_PATTERNS]
    patterns = [
        {
            "columns": [n for bit, n in enumerate(tracked) if int(values[i]) >> bit & 1],
            "rows": int(sizes[i]),
        }
        for i in top
    ]
    return {
        "cells": int(counts.sum()),
        "cells_share": float(counts.sum() / frame.size) if frame.size else 0.0,
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
