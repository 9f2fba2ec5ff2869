"""A fairness-mitigated candidate, evaluated side by side with the original model.

Fairlearn's :class:`~fairlearn.postprocessing.ThresholdOptimizer` (``prefit=True``,
``predict_method="predict_proba"``) learns one decision threshold per sensitive group on the
fitted model's probabilities for the training rows, under a demographic-parity or
equalized-odds constraint. Both models are then scored on the same holdout, so the cost of
fairness (in accuracy, ROC AUC, ...) is read next to its gain (in parity differences).

Groups are the intersection of all sensitive columns of the contract; numeric columns with many
values are cut at quantiles computed once on training and holdout rows together, so both splits
share the same groups. The mitigated candidate is a comparison, never a registered model.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference
from fairlearn.postprocessing import ThresholdOptimizer
from sklearn import metrics as skm
from sklearn.base import BaseEstimator, ClassifierMixin

from loopml.data import DataContract
from loopml.errors import InvalidInputError
from loopml.evaluate._groups import group_rows
from loopml.train._bundle import ModelBundle, probability_column

Constraint = Literal["demographic_parity", "equalized_odds"]
CONSTRAINTS: tuple[str, ...] = ("demographic_parity", "equalized_odds")


class _Scores(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """An already-fitted 'classifier' whose input is the model's positive-class probability."""

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def fit(self, X: np.ndarray, y: np.ndarray) -> _Scores:
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = np.asarray(X, dtype=float)[:, 0]
        return np.column_stack([1.0 - p, p])


def check_mitigation(task: str, contract: DataContract, constraint: str) -> None:
    """Raise unless a mitigated candidate can be fitted for this task and contract.

    Raises:
        InvalidInputError: unknown constraint, a task other than binary classification, or a
            contract without sensitive columns.
    """
    if constraint not in CONSTRAINTS:
        raise InvalidInputError(
            f"Unknown fairness constraint {constraint!r}.",
            hint=f"Use one of: {', '.join(CONSTRAINTS)}.",
        )
    if task != "binary":
        raise InvalidInputError(
            f"Fairness mitigation needs a binary classification task, not {task}.",
            hint="Train without --mitigate.",
        )
    if not contract.sensitive_columns:
        raise InvalidInputError(
            "Fairness mitigation needs sensitive columns, and the data contract marks none.",
            hint="Mark protected attributes with 'sensitive: true' in the contract.",
        )


def _groups(bundle: ModelBundle, train: pd.DataFrame, holdout: pd.DataFrame) -> np.ndarray:
    specs = [s for s in bundle.contract.sensitive_columns if s.name in train.columns]
    both = pd.concat([train, holdout], axis=0, ignore_index=True)
    names = [group_rows(both[s.name], s).names().astype(str) for s in specs]
    return np.asarray([" & ".join(parts) for parts in zip(*names, strict=True)], dtype=object)


def _labelled(bundle: ModelBundle, frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    target = bundle.contract.target
    assert target is not None
    rows = frame.loc[frame[target].notna()]
    y = rows[target].astype(str).to_numpy() == str(bundle.positive_class)
    return rows, y


def _summary(
    y: np.ndarray, pred: np.ndarray, score: np.ndarray, groups: np.ndarray
) -> dict[str, float | None]:
    both = 0 < y.sum() < len(y)
    return {
        "accuracy": float(skm.accuracy_score(y, pred)),
        "balanced_accuracy": float(skm.balanced_accuracy_score(y, pred)) if both else None,
        "f1": float(skm.f1_score(y, pred, zero_division=0.0)),
        "roc_auc": float(skm.roc_auc_score(y, score)) if both else None,
        "selection_rate": float(np.mean(pred)),
        "demographic_parity_difference": float(
            demographic_parity_difference(y, pred, sensitive_features=groups)
        ),
        "equalized_odds_difference": float(
            equalized_odds_difference(y, pred, sensitive_features=groups)
        ),
    }


def _change(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else after - before


def mitigation_comparison(
    bundle: ModelBundle,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    *,
    constraint: str = "demographic_parity",
    seed: int = 0,
) -> dict[str, Any]:
    """Fit a ThresholdOptimizer on ``bundle``'s probabilities for ``train`` and compare it with
    ``bundle`` on ``holdout`` (rows with a target only).

    Returns a JSON-able dict: ``method``, ``constraint``, ``sensitive_columns``, ``n_groups``,
    ``n_rows``, ``original`` and ``mitigated`` (each: accuracy, balanced accuracy, F1, ROC AUC,
    selection rate, demographic-parity and equalized-odds differences over the intersection
    groups), ``cost`` (mitigated minus original for each of those) and ``registered: False``.
    The mitigated ROC AUC is computed on its (randomised) probability of a positive decision.

    Raises:
        InvalidInputError: see :func:`check_mitigation`; a training split with one class; or
            Fairlearn cannot fit the thresholds (e.g. a holdout group absent from training).
    """
    check_mitigation(bundle.task, bundle.contract, constraint)
    train_rows, y_train = _labelled(bundle, train)
    hold_rows, y_hold = _labelled(bundle, holdout)
    if not 0 < y_train.sum() < len(y_train):
        raise InvalidInputError(
            "Fairness mitigation needs both classes in the training rows.",
            hint="Train on data with positive and negative examples.",
        )
    groups = _groups(bundle, train_rows, hold_rows)
    g_train, g_hold = groups[: len(train_rows)], groups[len(train_rows) :]
    column = probability_column(bundle.positive_class)
    s_train = bundle.predict_frame(train_rows)[column].to_numpy(dtype=float)
    hold_pred = bundle.predict_frame(hold_rows)
    s_hold = hold_pred[column].to_numpy(dtype=float)
    optimizer = ThresholdOptimizer(
        estimator=_Scores(),
        constraints=constraint,
        prefit=True,
        predict_method="predict_proba",
    )
    try:
        optimizer.fit(s_train[:, None], y_train.astype(int), sensitive_features=g_train)
        mitigated = np.asarray(
            optimizer.predict(s_hold[:, None], sensitive_features=g_hold, random_state=seed)
        ).astype(bool)
        pmf = np.asarray(optimizer._pmf_predict(s_hold[:, None], sensitive_features=g_hold))
    except ValueError as exc:  # e.g. a holdout group never seen in the training rows
        raise InvalidInputError(
            f"Fairlearn could not fit the mitigated candidate: {exc}",
            hint="Use sensitive columns whose groups all appear in the training split.",
        ) from exc
    original = hold_pred["prediction"].astype(str).to_numpy() == str(bundle.positive_class)
    before = _summary(y_hold, original, s_hold, g_hold)
    after = _summary(y_hold, mitigated, pmf[:, 1], g_hold)
    return {
        "method": "fairlearn.postprocessing.ThresholdOptimizer",
        "constraint": constraint,
        "sensitive_columns": [s.name for s in bundle.contract.sensitive_columns],
        "n_groups": len(set(g_hold.tolist())),
        "n_rows": len(hold_rows),
        "original": before,
        "mitigated": after,
        "cost": {k: _change(before[k], after[k]) for k in before},
        "registered": False,
    }
