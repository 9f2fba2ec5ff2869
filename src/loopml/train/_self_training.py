"""Self-training: classifiers that also learn from rows whose target is missing.

:class:`SelfTrainedClassifier` is scikit-learn's self-training algorithm (``threshold``
criterion, as in ``sklearn.semi_supervised.SelfTrainingClassifier``) over a whole loopml
pipeline: fit on the labelled rows, label the unlabelled rows predicted with probability above
``threshold``, refit, and repeat until no row is added or ``max_iter`` rounds. scikit-learn's
class converts its input to a numeric array first, which would strip the column names the
pipeline's ColumnTransformer selects by (and fail on text categories); this one passes the
DataFrame through untouched.

:func:`self_train` wraps the best cross-validated family: it is cross-validated on the same
labelled folds (every training fold plus all unlabelled rows), refitted on everything, and
becomes a ``self_training`` candidate. Scores are always computed on labelled rows only.
"""

from __future__ import annotations

import math
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils.validation import check_is_fitted

from loopml.features import pca_report, selection_report
from loopml.train._finish import FamilyState, fold_scores, make_bundle
from loopml.train._fitting import predict_scores
from loopml.train._result import CandidateResult
from loopml.train._session import REFIT_FACTOR, Session

UNLABELLED = -1
"""The encoded target of a row without a label."""
SELF_TRAINING = "self_training"
"""The family name of the self-trained candidate."""


class SelfTrainedClassifier(ClassifierMixin, BaseEstimator):
    """Self-training around a classifier that takes a DataFrame (see the module docstring).

    ``fit(X, y)``: rows with ``y == -1`` are unlabelled.

    Args:
        estimator: an unfitted classifier with ``predict_proba`` (e.g. a loopml pipeline).
        threshold: a row is pseudo-labelled when its top probability is above this.
        max_iter: at most this many labelling rounds.

    Attributes (fitted):
        estimator_: the classifier refitted on labelled and pseudo-labelled rows.
        n_pseudo_labels_: how many unlabelled rows were given a label.
        n_iter_: labelling rounds run.
    """

    def __init__(self, estimator: Any, threshold: float = 0.75, max_iter: int = 10) -> None:
        self.estimator = estimator
        self.threshold = threshold
        self.max_iter = max_iter

    def fit(self, X: pd.DataFrame, y: Any) -> SelfTrainedClassifier:
        labels = np.asarray(y).copy()
        has_label = labels != UNLABELLED
        if not has_label.any():
            raise ValueError("Self-training needs at least one labelled row.")
        n_labelled = int(has_label.sum())
        self.estimator_ = clone(self.estimator)
        self.n_iter_ = 0
        while not has_label.all() and self.n_iter_ < self.max_iter:
            self.n_iter_ += 1
            self.estimator_.fit(X.iloc[has_label], labels[has_label])
            unlabelled = np.flatnonzero(~has_label)
            proba = np.asarray(self.estimator_.predict_proba(X.iloc[unlabelled]), dtype=float)
            confident = proba.max(axis=1) > self.threshold
            if not confident.any():
                break
            chosen = unlabelled[confident]
            labels[chosen] = np.asarray(self.estimator_.classes_)[proba[confident].argmax(axis=1)]
            has_label[chosen] = True
        self.estimator_.fit(X.iloc[has_label], labels[has_label])
        self.n_pseudo_labels_ = int(has_label.sum()) - n_labelled
        return self

    @property
    def classes_(self) -> np.ndarray:
        check_is_fitted(self, "estimator_")
        return np.asarray(self.estimator_.classes_)

    def predict_proba(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "estimator_")
        return np.asarray(self.estimator_.predict_proba(X), dtype=float)

    def predict(self, X: Any) -> np.ndarray:
        return np.asarray(self.classes_[self.predict_proba(X).argmax(axis=1)])


def self_train(session: Session, states: list[FamilyState]) -> tuple[CandidateResult | None, str]:
    """The best family, self-trained with the unlabelled rows, as a candidate; and a note.

    Returns ``(None, note)`` when there are no unlabelled rows, no family to wrap, or no time.
    """
    data = session.data
    unlabelled = data.X_unlabelled
    if unlabelled is None or unlabelled.empty:
        return None, ""
    fitted = [
        s for s in states if s.complete and s.result.bundle is not None and s.family.name != "dummy"
    ]
    if not fitted:
        return None, "Self-training was not tried: no family besides the baseline was fitted."
    base = max(fitted, key=lambda s: session.sign * (s.result.cv_mean or -math.inf))
    assert base.evaluation is not None
    n = len(session.folds)
    needed = base.evaluation.fold_seconds * (n + REFIT_FACTOR) * 3
    if not session.replay and needed > session.remaining():
        return None, (
            f"Self-training was not tried: it needs about {needed:.0f}s and the time budget "
            "is spent."
        )
    model = SelfTrainedClassifier(base.pipeline)
    result = CandidateResult(family=SELF_TRAINING, params={"base": base.family.name})
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            oof = _cross_validate(session, model, unlabelled)
            result.cv_seconds = time.perf_counter() - started
            scores = fold_scores(session, oof)
            result.fold_scores = scores
            result.cv_mean, result.cv_std = float(np.nanmean(scores)), float(np.nanstd(scores))
            begin = time.perf_counter()
            fitted_model = clone(model).fit(*_with_unlabelled(data.X, data.y, unlabelled))
            result.fit_seconds = time.perf_counter() - begin
        except Exception as exc:  # self-training failing must not end training; it is recorded
            result.status, result.reason = "failed", f"{type(exc).__name__}: {exc}"
            return result, f"Self-training {base.family.name} failed: {result.reason}"
    result.warnings = list(dict.fromkeys(str(w.message) for w in caught))[:5]
    pseudo = fitted_model.n_pseudo_labels_
    result.params = {**base.result.params, "base": base.family.name, "pseudo_labels": pseudo}
    extra = {
        "self_training": {
            "base": base.family.name,
            "unlabelled_rows": len(unlabelled),
            "pseudo_labels": pseudo,
            "rounds": fitted_model.n_iter_,
        },
        "calibration": None,
    }
    result.features = {
        "dropped": selection_report(fitted_model),
        "pca": pca_report(fitted_model),
    }
    result.bundle = make_bundle(session, result, fitted_model, oof, extra)
    return result, (
        f"Self-training {base.family.name} added {pseudo} pseudo-label(s) from "
        f"{len(unlabelled)} unlabelled row(s)."
    )


def _with_unlabelled(
    X: pd.DataFrame, y: np.ndarray, unlabelled: pd.DataFrame
) -> tuple[pd.DataFrame, np.ndarray]:
    rows = pd.concat([X, unlabelled], ignore_index=True)
    labels = np.concatenate([y, np.full(len(unlabelled), UNLABELLED, dtype=y.dtype)])
    return rows, labels


def _cross_validate(session: Session, model: Any, unlabelled: pd.DataFrame) -> np.ndarray:
    """Out-of-fold predictions on the labelled folds; each fit also sees every unlabelled row."""
    data = session.data
    oof = np.full((len(data.y), session.n_classes), np.nan)
    for train, valid in session.folds:
        X, y = _with_unlabelled(data.X.iloc[train], data.y[train], unlabelled)
        fitted = clone(model).fit(X, y)
        oof[valid] = predict_scores(fitted, data.X.iloc[valid], session.n_classes)
    return oof
