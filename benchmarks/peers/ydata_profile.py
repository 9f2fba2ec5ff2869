"""ydata-profiling's half of bench_profile_vs_ydata.py (runs in its own venv).

Usage: ydata_profile.py PARQUET MODE OUTPUT_HTML [REPEAT]  (MODE: minimal or default). Prints one
JSON object: seconds for the statistics (``get_description``; the fastest of REPEAT fresh reports,
default 1), for the HTML page, peak RSS (MB), and the statistics compared with loopml (means,
quantiles, missing counts, Pearson/Spearman).
"""

from __future__ import annotations

import json
import resource
import sys
import time

import pandas as pd
from ydata_profiling import ProfileReport


def main() -> None:
    path, mode, html = sys.argv[1], sys.argv[2], sys.argv[3]
    repeat = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    frame = pd.read_parquet(path)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    runs = []
    for _ in range(repeat):  # a fresh report each time: nothing cached between runs
        start = time.perf_counter()
        report = ProfileReport(frame, minimal=(mode == "minimal"), progress_bar=False)
        description = report.get_description()
        runs.append(time.perf_counter() - start)
    stats_seconds = min(runs)
    start = time.perf_counter()
    report.to_file(html)
    html_seconds = time.perf_counter() - start
    variables = description.variables
    means = {k: v.get("mean") for k, v in variables.items() if "mean" in v}
    p50 = {k: v.get("50%") for k, v in variables.items() if "50%" in v}
    missing = {k: int(v.get("n_missing", 0)) for k, v in variables.items()}
    correlations = {}
    for name, matrix in (description.correlations or {}).items():
        correlations[name] = {"columns": list(matrix.columns), "matrix": matrix.values.tolist()}
    print(
        json.dumps(
            {
                "stats_seconds": stats_seconds,
                "stats_runs": runs,
                "html_seconds": html_seconds,
                "rss_before_mb": rss_before,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
                "means": means,
                "p50": p50,
                "missing": missing,
                "correlations": list(correlations),
            },
            default=float,
        )
    )


if __name__ == "__main__":
    main()
