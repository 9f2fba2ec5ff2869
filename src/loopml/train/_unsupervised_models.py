"""Fitted clustering and anomaly models with one interface: ``predict`` and ``score_samples``.

``predict`` gives a cluster id (clustering; -1 is noise) or 1 for an anomaly, 0 otherwise;
``score_samples`` gives how typical a row is of its cluster (higher: more typical) or how
anomalous it is (higher: more anomalous). Each wraps a fitted preprocessor and estimator, so a
:class:`~loopml.train.ModelBundle` can serve it like any pipeline.
"""

from __future__ import annotations

import abc
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.neighbors import NearestNeighbors


class _Fitted(BaseEstimator, abc.ABC):
    """A fitted preprocessor and estimator; subclasses say what ``predict`` and
    ``score_samples`` mean (:meth:`_labels`, :meth:`_scores`)."""

    def __init__(self, preprocess: Any, model: Any) -> None:
        self.preprocess = preprocess
        self.model = model

    def _inputs(self, X: Any) -> np.ndarray:
        Z = self.preprocess.transform(X)
        return np.asarray(Z.toarray() if hasattr(Z, "toarray") else Z, dtype=float)

    def transform(self, X: Any) -> np.ndarray:
        """The preprocessed (dense, float) matrix the estimator sees: the space in which
        cluster-quality metrics are measured."""
        return self._inputs(X)

    def fit(self, X: Any, y: Any = None) -> _Fitted:
        """Refit preprocessing and model on ``X`` (same hyperparameters)."""
        self.preprocess = clone(self.preprocess).fit(X)
        self.model = clone(self.model).fit(self._inputs(X))
        self._after_fit(self._inputs(X))
        return self

    def _after_fit(self, Z: np.ndarray) -> None:
        return None

    def predict_with_score(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """``(predict(X), score_samples(X))``, preprocessing ``X`` once."""
        Z = self._inputs(X)
        return self._labels(Z), self._scores(Z)

    def predict(self, X: Any) -> np.ndarray:
        return self._labels(self._inputs(X))

    def score_samples(self, X: Any) -> np.ndarray:
        return self._scores(self._inputs(X))

    @abc.abstractmethod
    def _labels(self, Z: np.ndarray) -> np.ndarray:
        """The label of each preprocessed row (cluster id, or 1 for an anomaly)."""

    @abc.abstractmethod
    def _scores(self, Z: np.ndarray) -> np.ndarray:
        """The score of each preprocessed row (typicality, or anomalousness)."""

    def __sklearn_is_fitted__(self) -> bool:
        return True


class ClusterModel(_Fitted):
    """k-means / Gaussian mixture (native ``predict``) or DBSCAN (nearest core sample)."""

    def _after_fit(self, Z: np.ndarray) -> None:
        if hasattr(self.model, "core_sample_indices_"):
            cores = self.model.core_sample_indices_
            self.core_labels_ = self.model.labels_[cores]
            self.core_index_ = NearestNeighbors(n_neighbors=1).fit(Z[cores]) if len(cores) else None

    def _labels(self, Z: np.ndarray) -> np.ndarray:
        if not hasattr(self.model, "core_sample_indices_"):
            return np.asarray(self.model.predict(Z), dtype=int)
        if self.core_index_ is None:
            return np.full(len(Z), -1)
        distance, nearest = self.core_index_.kneighbors(Z)
        labels = self.core_labels_[nearest[:, 0]]
        return np.where(distance[:, 0] <= self.model.eps, labels, -1).astype(int)

    def _scores(self, Z: np.ndarray) -> np.ndarray:
        if hasattr(self.model, "score_samples"):  # Gaussian mixture: log-likelihood
            return np.asarray(self.model.score_samples(Z), dtype=float)
        if hasattr(self.model, "transform"):  # k-means: minus the distance to the centre
            return -np.asarray(self.model.transform(Z)).min(axis=1)
        if self.core_index_ is None:
            return np.full(len(Z), -np.inf)
        return -self.core_index_.kneighbors(Z)[0][:, 0]


class AnomalyModel(_Fitted):
    """Isolation forest or local outlier factor (novelty mode): 1 marks an anomaly."""

    @property
    def threshold(self) -> float:
        """The score above which a row is flagged (same units as :meth:`score_samples`)."""
        return float(-self.model.offset_)

    def predict_with_score(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        # The estimators flag a row when score_samples < offset_ (decision_function < 0), so
        # one scoring pass gives both outputs.
        scores = self._scores(self._inputs(X))
        return (scores > self.threshold).astype(int), scores

    def _labels(self, Z: np.ndarray) -> np.ndarray:
        return (np.asarray(self.model.predict(Z)) == -1).astype(int)

    def _scores(self, Z: np.ndarray) -> np.ndarray:
        return -np.asarray(self.model.score_samples(Z), dtype=float)
