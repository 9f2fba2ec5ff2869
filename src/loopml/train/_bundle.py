"""The fitted model as one artifact: preprocessing + estimator + the contract it was trained on.

Training produces a :class:`ModelBundle`; the registry stores it; batch scoring, serving,
evaluation and monitoring load it. Because preprocessing lives inside the scikit-learn pipeline,
serving cannot skew from training.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from loopml.data._contract import DataContract
from loopml.errors import DataError

Task = Literal["binary", "multiclass", "regression", "clustering", "anomaly"]
UNSUPERVISED = frozenset({"clustering", "anomaly"})


def probability_column(label: Any) -> str:
    """The output column holding the probability of class ``label``: ``probability_<label>``."""
    return f"probability_{label}"


@dataclass
class ModelBundle:
    """A fitted pipeline and everything needed to use it.

    Attributes:
        pipeline: fitted scikit-learn estimator taking a DataFrame of ``feature_names`` columns.
            For classification it predicts encoded labels ``0..n_classes-1`` (see ``classes``).
        contract: the data contract of the training data (the request schema derives from it).
        task: the learning task.
        classes: class labels in the order of ``predict_proba`` columns (classification only).
        positive_class: the label of the positive class (binary only).
        threshold: decision threshold on the positive-class probability (binary only).
        family: the candidate family (``dummy``, ``linear``, ``lightgbm``, …).
        metadata: free-form facts (training rows, CV scores, …), JSON-able.
    """

    pipeline: Any
    contract: DataContract
    task: Task
    classes: list[Any] = field(default_factory=list)
    positive_class: Any = None
    threshold: float = 0.5
    family: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def feature_names(self) -> list[str]:
        return self.contract.feature_names

    @property
    def is_classifier(self) -> bool:
        return self.task in ("binary", "multiclass")

    @property
    def output_columns(self) -> list[str]:
        """Columns of :meth:`predict_frame`'s result, in order."""
        if self.is_classifier:
            return ["prediction", *(probability_column(c) for c in self.classes)]
        if self.task in UNSUPERVISED:
            return ["prediction", "score"]
        return ["prediction"]

    def features(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The model's input columns of ``frame``, in training order.

        Raises:
            DataError: a feature column is missing (the message lists them).
        """
        missing = [c for c in self.feature_names if c not in frame.columns]
        if missing:
            raise DataError(
                f"The input is missing {len(missing)} column(s) the model needs: "
                f"{', '.join(missing)}.",
                hint="Add them, or score a file with the same columns as the training data.",
            )
        return frame.loc[:, self.feature_names]

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Class probabilities, one column per entry of ``classes``."""
        return np.asarray(self.pipeline.predict_proba(self.features(frame)), dtype=float)

    def predict_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Predictions for each row of ``frame`` (index preserved).

        Classification: ``prediction`` (a label of ``classes``) and one
        ``probability_<label>`` column per class. Regression: ``prediction``. Clustering and
        anomaly: ``prediction`` (cluster id, -1 noise; 1 anomaly, 0 normal) and ``score``
        (typicality within the cluster; anomaly score, higher is more anomalous).
        """
        X = self.features(frame)
        if self.task in UNSUPERVISED:
            if hasattr(self.pipeline, "predict_with_score"):  # preprocesses the rows once
                labels, scores = self.pipeline.predict_with_score(X)
            else:
                labels, scores = self.pipeline.predict(X), self.pipeline.score_samples(X)
            return pd.DataFrame(
                {
                    "prediction": np.asarray(labels, dtype=int),
                    "score": np.asarray(scores, dtype=float),
                },
                index=frame.index,
            )
        if not self.is_classifier:
            return self.outputs(np.asarray(self.pipeline.predict(X), dtype=float), frame.index)
        return self.outputs(np.asarray(self.pipeline.predict_proba(X), dtype=float), frame.index)

    def outputs(self, scores: np.ndarray, index: pd.Index) -> pd.DataFrame:
        """:meth:`predict_frame`'s result from the pipeline's own scores (supervised tasks):
        ``predict_proba`` for classifiers (one column per class), ``predict`` for regressors."""
        if not self.is_classifier:
            return pd.DataFrame({"prediction": np.asarray(scores, dtype=float)}, index=index)
        proba = np.asarray(scores, dtype=float)
        labels = np.asarray(self.classes, dtype=object)
        if self.task == "binary":
            positive = self.classes.index(self.positive_class)
            chosen = np.where(proba[:, positive] >= self.threshold, positive, 1 - positive)
        else:
            chosen = proba.argmax(axis=1)
        out = {"prediction": labels[chosen]}
        for i, label in enumerate(self.classes):
            out[probability_column(label)] = proba[:, i]
        return pd.DataFrame(out, index=index)
