"""Batch scoring speed: ``loopml predict`` Parquet -> Parquet on a LightGBM pipeline (20 features).

Builds a 5M-row Parquet file with 15 numeric and 5 categorical features, trains a LightGBM model
through loopml's own API (``init_project`` + ``train``, families ``["lightgbm"]``), then times
``loopml.project.predict`` end to end (read, contract checks with quarantine, preprocessing,
prediction, write) in a fresh process, reporting rows/s and that process's peak RSS. It does so
twice: *cold*, with empty caches, so the job lays the model's trees out as bit-vector tables and
numba compiles their scoring kernel (a few seconds) inside the timed job, and *warm*, with the
kernel in numba's cache (``NUMBA_CACHE_DIR``, inside the benchmark's folder). The reference is
the bare ``lightgbm.Booster.predict`` (``num_threads=2``) on the same rows already in memory as
float arrays (categoricals as integer codes), so the ratio shows what loopml gains or costs over
LightGBM's own predictor. A third run writes only the predictions (``keep=[]``, no input
columns copied). Goal (issue #7): >= 1,000,000 rows/s on 2 cores, memory flat in input
size.

Usage: python benchmarks/bench_batch_scoring.py [--rows 5000000] [--folder DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

N_NUMERIC, N_CATEGORICAL = 15, 5
NUMERIC = [f"x{i}" for i in range(N_NUMERIC)]
CATEGORICAL = [f"c{i}" for i in range(N_CATEGORICAL)]
LEVELS = [f"level_{k}" for k in range(12)]


def make_frame(rows: int, seed: int) -> pd.DataFrame:
    """``rows`` synthetic records: numeric and categorical features, and a binary target."""
    rng = np.random.default_rng(seed)
    numbers = rng.normal(size=(rows, N_NUMERIC))
    codes = rng.integers(0, len(LEVELS), size=(rows, N_CATEGORICAL))
    frame = pd.DataFrame(numbers, columns=NUMERIC)
    for j, name in enumerate(CATEGORICAL):
        frame[name] = np.asarray(LEVELS, dtype=object)[codes[:, j]]
    signal = numbers[:, 0] + numbers[:, 1] * numbers[:, 2] + 0.3 * (codes[:, 0] % 3)
    frame["label"] = np.where(signal + rng.normal(scale=0.5, size=rows) > 0, "yes", "no")
    return frame


def write_input(path: Path, rows: int, chunk: int = 500_000) -> None:
    """The scoring input, written in chunks so the benchmark itself stays small in memory."""
    writer: pq.ParquetWriter | None = None
    for start in range(0, rows, chunk):
        frame = make_frame(min(chunk, rows - start), seed=1000 + start).drop(columns="label")
        table = pa.Table.from_pandas(frame, preserve_index=False)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()


def train_project(folder: Path) -> None:
    from loopml.project import Project, init_project, train

    make_frame(10_000, seed=0).to_csv(folder / "train.csv", index=False)
    with init_project(folder, data=folder / "train.csv", target="label", name="bench") as p:
        charter = p.paths.charter
        text = charter.read_text().replace("families: null", 'families: ["lightgbm"]')
        text = text.replace("tune: true", "tune: false").replace("cv_folds: 5", "cv_folds: 2")
        charter.write_text(text)
    with Project.open(folder) as opened:
        train(opened, time_budget=600)


def score(folder: Path, source: Path, target: Path, keep: list[str] | None) -> dict[str, Any]:
    """Runs in a fresh process: ``loopml.project.predict`` timed end to end, with peak RSS."""
    import resource

    from loopml.project import Project, predict

    with Project.open(folder) as opened:
        started = time.perf_counter()
        outcome = predict(opened, "bench", source, target, keep=keep)
        seconds = time.perf_counter() - started
    return {
        "rows": outcome.n_rows,
        "seconds": seconds,
        "rows_per_s": outcome.n_rows / seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }


def bare_booster(folder: Path, source: Path) -> dict[str, Any]:
    """``lightgbm.Booster.predict`` (2 threads) on the same rows as float arrays, timed alone."""
    from loopml.project import Project

    with Project.open(folder) as opened:
        _, bundle = opened.registry.load("bench")
    model = bundle.pipeline.steps[-1][1]
    booster = getattr(model, "booster_", None)
    if booster is None:
        return {"note": f"the champion is not a plain LightGBM model ({type(model).__name__})"}
    table = pq.read_table(source)
    columns = []
    for name in NUMERIC:
        columns.append(table.column(name).to_numpy())
    for name in CATEGORICAL:
        encoded = table.column(name).combine_chunks().dictionary_encode()
        columns.append(encoded.indices.to_numpy().astype(np.float64))
    X = np.column_stack(columns)
    del table
    started = time.perf_counter()
    booster.predict(X, num_threads=2)
    seconds = time.perf_counter() - started
    return {"rows_per_s": len(X) / seconds, "seconds": seconds, "trees": booster.num_trees()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--folder", type=Path, default=None)
    parser.add_argument("--phase", choices=["all", "score", "bare"], default="all")
    parser.add_argument("--keep", default=None, help="score phase: --keep of loopml predict")
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="loopml-batch-bench-"))
    source, target = folder / "input.parquet", folder / "scored.parquet"
    if args.phase == "score":
        keep = None if args.keep is None else [c for c in args.keep.split(",") if c]
        print(json.dumps(score(folder, source, target, keep)))
        return
    if args.phase == "bare":
        print(json.dumps(bare_booster(folder, source)))
        return
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "loopml.yaml").exists():
        train_project(folder)
    if not source.exists() or pq.ParquetFile(source).metadata.num_rows != args.rows:
        write_input(source, args.rows)
    cache = folder / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "2",
        "PYTHONWARNINGS": "ignore",
        "LOOPML_CACHE_DIR": str(cache),
        "NUMBA_CACHE_DIR": str(cache / "numba"),
        "LOOPML_COMPILE_TREES": "1",
    }
    results = {}
    phases = (
        ("cold", "score", None),
        ("wait", "", None),
        ("warm", "score", None),
        ("warm, predictions only", "score", ""),
        ("bare", "bare", None),
    )
    for name, phase, columns in phases:
        if not phase:  # let the cold run's background build finish before the warm run
            _wait_for_build(cache)
            continue
        command = [sys.executable, __file__, "--phase", phase, "--folder", str(folder)]
        command += [] if columns is None else [f"--keep={columns}"]
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if not lines:
            raise RuntimeError(f"The {name} phase failed:\n{done.stderr[-3000:]}")
        results[name] = json.loads(lines[-1])
    bare = results["bare"]
    print(f"rows: {results['warm']['rows']:,}  input: {source.stat().st_size / 1e6:.0f} MB")
    for name in ("cold", "warm", "warm, predictions only"):
        run = results[name]
        ratio = ""
        if "rows_per_s" in bare:
            ratio = f", {run['rows_per_s'] / bare['rows_per_s']:.2f}x bare"
        print(
            f"loopml predict, {name}: {run['rows_per_s']:,.0f} rows/s ({run['seconds']:.2f} s), "
            f"peak RSS {run['peak_rss_mb']:,.0f} MB{ratio}"
        )
    if "rows_per_s" in bare:
        print(
            f"bare Booster.predict ({bare['trees']} trees, 2 threads): "
            f"{bare['rows_per_s']:,.0f} rows/s"
        )
    else:
        print(f"bare Booster.predict: {bare['note']}")
    print(json.dumps(results))


def _wait_for_build(cache: Path, timeout: float = 300.0) -> None:
    """Until no build lock is left in the cache (the build finished or failed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not list(cache.glob("compiled-trees/*.lock")):
            return
        time.sleep(0.5)


if __name__ == "__main__":
    main()
