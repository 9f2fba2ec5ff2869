"""Drift speed: loopml's ``compute_drift`` vs Evidently's data-drift preset, same data, same run.

Reference and current frames of ``--rows`` rows each (default: 100,000 then 1,000,000) with 20
numeric and 5 categorical columns; a shift is injected in 6 numeric and 2 categorical columns
of the current frame (mean shift, scale change, re-weighted categories), the others are drawn
from the same distributions. Both frames are written to Parquet once; both tools read them
and the times below exclude reading.

loopml: ``compute_drift(reference, current)`` (exact-data mode: the reference frame itself,
Evidently's default tests: Wasserstein (normed) / Jensen-Shannon above 1,000 rows), timed;
its peak extra memory measured with ``tracemalloc`` in a second run. loopml summarises and
checks columns side by side on up to 8 threads (no more than the CPUs), so its time depends
on the cores available; ``cpu_seconds`` is the CPU time it used, which does not.
Evidently 0.7 (``benchmarks/peers/evidently.txt``): ``Dataset.from_pandas`` for both sides +
``Report([DataDriftPreset()]).run``, timed; peak memory is the process's peak RSS.

Checks: the per-column verdicts of both tools agree; loopml flags exactly the shifted columns.
Goals: >= 50x faster than Evidently at 1M rows (<= 2 s); peak extra memory <= 1.5x the data.
Run: ``.venv/bin/python benchmarks/bench_drift_vs_evidently.py [--rows N ...]``
(the first run builds the Evidently environment).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _peer import PEERS, run_peer

from loopml.monitor import compute_drift

SHIFTED_NUMERIC = {"num_00", "num_03", "num_06", "num_09", "num_12", "num_15"}
SHIFTED_CATEGORICAL = {"cat_1", "cat_3"}


def build(n: int, seed: int, shift: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    columns: dict[str, object] = {}
    for i in range(20):
        name = f"num_{i:02d}"
        moved = shift and name in SHIFTED_NUMERIC
        if i % 3 == 0:
            values = rng.normal(10 * i + (3 + i if moved else 0), 1 + i, n)
        elif i % 3 == 1:
            values = rng.lognormal(0.5 if moved else 0, 1, n)
        else:
            values = rng.uniform(-5, 5 * (2 if moved else 1), n)
        columns[name] = values
    for j, k in enumerate((3, 5, 10, 20, 40)):
        name = f"cat_{j}"
        weights = np.linspace(1, 3, k)
        if shift and name in SHIFTED_CATEGORICAL:
            weights = weights[::-1]
        labels = np.array([f"level_{j}_{v}" for v in range(k)], dtype=object)
        columns[name] = pd.array(labels[rng.choice(k, n, p=weights / weights.sum())], dtype="str")
    return pd.DataFrame(columns)


@dataclass
class LoopmlResult:
    seconds: float
    cpu_seconds: float
    peak_extra_mb: float
    verdicts: dict[str, bool]
    tests: dict[str, str]


def loopml_run(reference: pd.DataFrame, current: pd.DataFrame) -> LoopmlResult:
    start, cpu = time.perf_counter(), time.process_time()
    report = compute_drift(reference, current)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    tracemalloc.start()
    compute_drift(reference, current)
    _size, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return LoopmlResult(
        seconds,
        cpu_seconds,
        peak / 2**20,
        {c: bool(r["drifted"]) for c, r in report.features.items()},
        {c: str(r["test"]) for c, r in report.features.items()},
    )


def one_size(n: int, folder: Path, with_peer: bool) -> dict[str, object]:
    reference, current = build(n, 0, False), build(n, 1, True)
    data_mb = (
        float(reference.memory_usage(deep=True).sum() + current.memory_usage(deep=True).sum())
        / 2**20
    )
    ref_path, cur_path = folder / f"reference-{n}.parquet", folder / f"current-{n}.parquet"
    reference.to_parquet(ref_path)
    current.to_parquet(cur_path)
    ours = loopml_run(reference, current)
    expected = {c: c in SHIFTED_NUMERIC | SHIFTED_CATEGORICAL for c in reference.columns}
    result: dict[str, object] = {
        "rows": n,
        "data_mb": round(data_mb, 1),
        "loopml_seconds": round(ours.seconds, 3),
        "loopml_cpu_seconds": round(ours.cpu_seconds, 3),
        "loopml_peak_extra_mb": round(ours.peak_extra_mb, 1),
        "loopml_memory_over_data": round(ours.peak_extra_mb / data_mb, 2),
        "loopml_flags_the_shifted_columns": ours.verdicts == expected,
    }
    if with_peer:
        peer = run_peer("evidently", PEERS / "evidently_drift.py", str(ref_path), str(cur_path))
        theirs = {str(c): bool(v["drifted"]) for c, v in peer["verdicts"].items()}
        disagree = sorted(c for c in theirs if theirs[c] != ours.verdicts.get(c))
        result |= {
            "evidently_seconds": round(peer["seconds"], 3),
            "evidently_peak_rss_mb": round(peer["peak_rss_mb"], 1),
            "speedup": round(peer["seconds"] / ours.seconds, 1),
            "same_verdicts": not disagree and set(theirs) == set(ours.verdicts),
            "disagreeing_columns": disagree,
            "evidently_methods": sorted({v["method"] for v in peer["verdicts"].values()}),
            "loopml_tests": sorted(set(ours.tests.values())),
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--no-peer", action="store_true", help="Measure loopml only.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="loopml-bench-drift-") as tmp:
        for n in args.rows:
            print(json.dumps(one_size(n, Path(tmp), not args.no_peer)), flush=True)


if __name__ == "__main__":
    main()
