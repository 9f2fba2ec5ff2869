"""What changed between two versions of a table: schema, row counts, per-column statistics."""

from __future__ import annotations

from typing import Any

import pandas as pd

MEAN_SHIFT_STDS = 0.1
"""A number column "moved" when its mean shifts by more than this many standard deviations."""
MISSING_SHIFT = 0.01
"""…or when its share of missing values changes by more than this (any column)."""
_SHOWN_LEVELS = 10


def _number_stats(series: pd.Series) -> dict[str, Any]:
    values = pd.to_numeric(series, errors="coerce")
    return {
        "mean": float(values.mean()) if values.notna().any() else None,
        "std": float(values.std()) if values.notna().sum() > 1 else None,
        "min": float(values.min()) if values.notna().any() else None,
        "max": float(values.max()) if values.notna().any() else None,
        "missing_share": float(series.isna().mean()),
    }


def _column_change(name: str, a: pd.Series, b: pd.Series) -> dict[str, Any] | None:
    number = all(
        pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)
        for s in (a, b)
    )
    reasons: list[str] = []
    if number:
        before, after = _number_stats(a), _number_stats(b)
        if before["mean"] is not None and after["mean"] is not None:
            scale = before["std"] or abs(before["mean"]) or 1.0
            shift = abs(after["mean"] - before["mean"]) / scale
            if shift > MEAN_SHIFT_STDS:
                reasons.append(f"mean moved by {shift:.2f} standard deviations")
        if after["min"] is not None and before["min"] is not None and after["min"] < before["min"]:
            reasons.append("new minimum")
        if after["max"] is not None and before["max"] is not None and after["max"] > before["max"]:
            reasons.append("new maximum")
    else:
        old, new = set(a.dropna().astype(str)), set(b.dropna().astype(str))
        before = {"missing_share": float(a.isna().mean()), "distinct": len(old)}
        after = {"missing_share": float(b.isna().mean()), "distinct": len(new)}
        added, removed = sorted(new - old), sorted(old - new)
        if added:
            after["new_values"] = added[:_SHOWN_LEVELS]
            reasons.append(f"{len(added)} new value(s)")
        if removed:
            before["gone_values"] = removed[:_SHOWN_LEVELS]
            reasons.append(f"{len(removed)} value(s) no longer present")
    if abs(after["missing_share"] - before["missing_share"]) > MISSING_SHIFT:
        reasons.append(
            f"missing share {before['missing_share']:.1%} -> {after['missing_share']:.1%}"
        )
    if not reasons:
        return None
    return {"column": name, "reasons": reasons, "before": before, "after": after}


def diff_frames(before: pd.DataFrame, after: pd.DataFrame) -> dict[str, Any]:
    """The differences from ``before`` to ``after``.

    Returns ``{"rows": {"before", "after", "change"}, "schema": {"added", "removed",
    "type_changed"}, "moved": [{"column", "reasons", "before", "after"}], "unchanged": [...]}``
    where ``moved`` lists common columns whose statistics moved (see ``MEAN_SHIFT_STDS`` and
    ``MISSING_SHIFT``; new or vanished categories; a new minimum or maximum).
    """
    old, new = [str(c) for c in before.columns], [str(c) for c in after.columns]
    common = [c for c in old if c in new]
    type_changed = [
        {"column": c, "before": str(before[c].dtype), "after": str(after[c].dtype)}
        for c in common
        if str(before[c].dtype) != str(after[c].dtype)
    ]
    moved = [m for c in common if (m := _column_change(c, before[c], after[c])) is not None]
    moved_names = {m["column"] for m in moved}
    return {
        "rows": {"before": len(before), "after": len(after), "change": len(after) - len(before)},
        "schema": {
            "added": [c for c in new if c not in old],
            "removed": [c for c in old if c not in new],
            "type_changed": type_changed,
        },
        "moved": moved,
        "unchanged": [c for c in common if c not in moved_names],
    }
