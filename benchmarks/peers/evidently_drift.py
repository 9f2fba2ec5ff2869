"""Evidently's half of bench_drift_vs_evidently.py (runs in its own venv).

Usage: evidently_drift.py REFERENCE.parquet CURRENT.parquet. Prints one JSON object: seconds
for building the datasets and running the DataDriftPreset report, peak RSS (MB) before and
after, and the per-column verdicts (method, score, threshold, drifted).
"""

from __future__ import annotations

import json
import resource
import sys
import time

import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset

P_VALUE_METHODS = ("K-S p_value", "chi-square p_value", "Z-test p_value", "Anderson", "Fisher")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    reference = pd.read_parquet(sys.argv[1])
    current = pd.read_parquet(sys.argv[2])
    before = peak_mb()
    start = time.perf_counter()
    numeric = [c for c in reference.columns if c.startswith("num_")]
    categorical = [c for c in reference.columns if c.startswith("cat_")]
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
    ref = Dataset.from_pandas(reference, data_definition=definition)
    cur = Dataset.from_pandas(current, data_definition=definition)
    snapshot = Report([DataDriftPreset()]).run(cur, ref)
    result = snapshot.dict()
    seconds = time.perf_counter() - start
    verdicts = {}
    for metric in result["metrics"]:
        config = metric["config"]
        if not config["type"].endswith("ValueDrift"):
            continue
        score, threshold, method = (
            float(metric["value"]),
            float(config["threshold"]),
            config["method"],
        )
        p_value = any(method.startswith(m) for m in P_VALUE_METHODS)
        drifted = score < threshold if p_value else score >= threshold
        verdicts[config["column"]] = {
            "method": method,
            "score": score,
            "threshold": threshold,
            "drifted": drifted,
        }
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_rss_mb_before": before,
                "peak_rss_mb": peak_mb(),
                "verdicts": verdicts,
            }
        )
    )


if __name__ == "__main__":
    main()
