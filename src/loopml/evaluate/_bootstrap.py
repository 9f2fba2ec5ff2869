"""Bootstrap percentile intervals of holdout metrics, all replicates computed at once."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from loopml.errors import InvalidInputError
from loopml.evaluate._metrics import GREATER_IS_BETTER, metrics_of
from loopml.evaluate._scored import Scored, score_arrays
from loopml.evaluate._weighted import replicate_metrics
from loopml.train._bundle import Task

_CELLS_PER_CHUNK = 2_000_000  # replicates x rows held in memory at once (~16 MB of floats)


def bootstrap_intervals(
    task: Task,
    y_true: Any,
    predictions: pd.DataFrame,
    classes: Sequence[Any] = (),
    positive_class: Any = None,
    metrics: Iterable[str] | None = None,
    n_boot: int = 200,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap intervals (``level``, default 95 %) of holdout metrics.

    ``metrics`` defaults to every metric :func:`compute_metrics` returns for this data. A metric
    undefined in more than half of the replicates (e.g. AUC on a handful of rows) is omitted.
    Deterministic for a given ``seed``.

    Raises:
        InvalidInputError: bad inputs (see :func:`compute_metrics`), an unknown metric name,
            ``n_boot`` < 2 or ``level`` outside (0, 1).
    """
    scored = score_arrays(task, y_true, predictions, classes=classes, positive_class=positive_class)
    return intervals_of(scored, metrics, n_boot=n_boot, seed=seed, level=level)


def intervals_of(
    scored: Scored,
    metrics: Iterable[str] | None = None,
    *,
    n_boot: int = 200,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, tuple[float, float]]:
    """:func:`bootstrap_intervals` on already aligned arrays."""
    if n_boot < 2:
        raise InvalidInputError(f"n_boot must be at least 2; got {n_boot}.")
    if not 0 < level < 1:
        raise InvalidInputError(f"level must be between 0 and 1; got {level}.")
    names = _requested(scored, metrics)
    draws = _replicates(scored, names, n_boot, np.random.default_rng(seed))
    return _percentile_intervals(draws, n_boot, level)


def resampled_intervals(
    statistic: Callable[[np.ndarray], Mapping[str, float]],
    n_rows: int,
    *,
    n_boot: int = 200,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap intervals of statistics that are not sums over rows.

    ``statistic`` gets the row indices of one replicate (drawn with replacement from
    ``range(n_rows)``) and returns ``{name: value}`` (NaN or a missing name where the replicate
    leaves the value undefined); the same rule as :func:`intervals_of` then applies. Used for
    clustering and anomaly metrics, which need the resampled rows themselves.

    Raises:
        InvalidInputError: ``n_boot`` < 2, ``level`` outside (0, 1) or ``n_rows`` < 1.
    """
    if n_boot < 2:
        raise InvalidInputError(f"n_boot must be at least 2; got {n_boot}.")
    if not 0 < level < 1:
        raise InvalidInputError(f"level must be between 0 and 1; got {level}.")
    if n_rows < 1:
        raise InvalidInputError(f"n_rows must be at least 1; got {n_rows}.")
    rng = np.random.default_rng(seed)
    values: dict[str, np.ndarray] = {}
    for b in range(n_boot):
        for name, value in statistic(rng.integers(0, n_rows, size=n_rows)).items():
            values.setdefault(name, np.full(n_boot, np.nan))[b] = float(value)
    draws = values
    return _percentile_intervals(draws, n_boot, level)


def _percentile_intervals(
    draws: Mapping[str, np.ndarray], n_boot: int, level: float
) -> dict[str, tuple[float, float]]:
    """Percentile interval per metric; omitted when undefined in more than half the replicates."""
    tail = (1 - level) / 2 * 100
    out: dict[str, tuple[float, float]] = {}
    for name in sorted(draws):
        values = draws[name][np.isfinite(draws[name])]
        if values.size * 2 > n_boot:
            low, high = np.percentile(values, [tail, 100 - tail])
            out[name] = (float(low), float(high))
    return out


def _requested(scored: Scored, metrics: Iterable[str] | None) -> set[str]:
    defined = set(metrics_of(scored))
    if metrics is None:
        return defined
    names = set(metrics)
    unknown = sorted(names - set(GREATER_IS_BETTER))
    if unknown:
        raise InvalidInputError(
            f"Unknown metric(s): {', '.join(unknown)}.",
            hint=f"Known metrics: {', '.join(sorted(GREATER_IS_BETTER))}.",
        )
    return names


def _replicates(
    scored: Scored, names: set[str], n_boot: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    n = scored.n_rows
    chunk = max(1, _CELLS_PER_CHUNK // n)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in names}
    for start in range(0, n_boot, chunk):
        m = min(chunk, n_boot - start)
        drawn = rng.integers(0, n, size=(m, n))
        flat = (drawn + (np.arange(m) * n)[:, None]).ravel()
        counts = np.bincount(flat, minlength=m * n).reshape(m, n)
        values = replicate_metrics(scored, counts, names)
        for name in names:
            parts[name].append(values.get(name, np.full(m, np.nan)))
    return {name: np.concatenate(chunks) for name, chunks in parts.items()}
