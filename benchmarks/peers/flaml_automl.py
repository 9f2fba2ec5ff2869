"""FLAML's half of bench_automl_quality.py: fit AutoML on train.parquet, score test.parquet.

Usage: python flaml_automl.py TRAIN TEST TARGET TASK BUDGET. Prints one JSON object.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import pandas as pd
from flaml import AutoML
from sklearn.metrics import r2_score, roc_auc_score


def _frame(path: str, target: str) -> tuple[pd.DataFrame, pd.Series]:
    frame = pd.read_parquet(path)
    y = frame.pop(target)
    for name, column in frame.items():  # FLAML encodes pandas categoricals itself
        if not pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            frame[name] = column.astype("object").astype("category")
    return frame, y


def main() -> None:
    train, test, target, task, budget = sys.argv[1:6]
    X, y = _frame(train, target)
    X_test, y_test = _frame(test, target)
    metric = {"binary": "roc_auc", "multiclass": "roc_auc_ovr", "regression": "r2"}[task]
    automl = AutoML()
    started = time.perf_counter()
    automl.fit(
        X,
        y.astype(str) if task != "regression" else y,
        task="regression" if task == "regression" else "classification",
        metric=metric,
        time_budget=float(budget),
        seed=0,
        n_jobs=2,
        verbose=0,
    )
    seconds = time.perf_counter() - started
    if task == "regression":
        score = r2_score(y_test, automl.predict(X_test))
    else:
        proba = automl.predict_proba(X_test)
        classes = [str(c) for c in automl.classes_]
        truth = y_test.astype(str).to_numpy()
        if task == "binary":
            score = roc_auc_score(truth == classes[1], proba[:, 1])
        else:
            onehot = np.asarray([[t == c for c in classes] for t in truth])
            score = roc_auc_score(onehot, proba, average="macro", multi_class="ovr")
    print(json.dumps({"score": float(score), "best": automl.best_estimator, "seconds": seconds}))


if __name__ == "__main__":
    main()
