"""The evaluation report of a model on a holdout: metrics, intervals, gates, curves, importance,
fairness, worst slices and SHAP explanations."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from loopml.errors import DataError, InvalidInputError
from loopml.evaluate._bootstrap import intervals_of
from loopml.evaluate._curves import curve_summaries
from loopml.evaluate._explain import shap_importance
from loopml.evaluate._fairness import fairness_summary
from loopml.evaluate._gates import GateResult
from loopml.evaluate._importance import permutation_importances
from loopml.evaluate._metrics import metrics_of
from loopml.evaluate._scored import SUPPORTED_TASKS, score_arrays
from loopml.evaluate._slices import worst_slices
from loopml.reports import Report, to_jsonable, write_report
from loopml.train._bundle import UNSUPERVISED, ModelBundle, Task

HTML_NAME = "evaluation.html"
JSON_NAME = "evaluation.json"


@dataclass
class EvaluationReport(Report):
    """How a model did on a holdout. Holds summaries only (no raw rows), so it is small to store.

    ``curves``, ``importance``, ``fairness``, ``slices`` and ``shap`` follow
    :func:`loopml.evaluate._curves.curve_summaries`,
    :func:`loopml.evaluate._importance.permutation_importances`,
    :func:`loopml.evaluate._fairness.fairness_summary`,
    :func:`loopml.evaluate._slices.worst_slices` and
    :func:`loopml.evaluate._explain.shap_importance` (each ``{}`` when not computed);
    ``intervals`` are 95 % bootstrap intervals keyed like ``metrics``; ``unsupervised`` holds
    the clustering/anomaly summaries of :mod:`loopml.evaluate._unsupervised`.
    """

    model_ref: str
    task: Task
    n_rows: int
    metrics: dict[str, float]
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    gates: list[GateResult] = field(default_factory=list)
    curves: dict[str, Any] = field(default_factory=dict)
    importance: dict[str, Any] = field(default_factory=dict)
    fairness: dict[str, Any] = field(default_factory=dict)
    slices: dict[str, Any] = field(default_factory=dict)
    shap: dict[str, Any] = field(default_factory=dict)
    unsupervised: dict[str, Any] = field(default_factory=dict)
    dataset_id: str | None = None
    classes: list[str] = field(default_factory=list)
    positive_class: str | None = None
    threshold: float | None = None
    n_unlabelled: int = 0
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @property
    def passed(self) -> bool:
        """Whether every gate passed (True when there are no gates)."""
        return all(gate.passed for gate in self.gates)

    def to_dict(self) -> dict[str, Any]:
        data = {
            "model": self.model_ref,
            "dataset_id": self.dataset_id,
            "task": self.task,
            "n_rows": self.n_rows,
            "n_unlabelled": self.n_unlabelled,
            "classes": self.classes,
            "positive_class": self.positive_class,
            "threshold": self.threshold,
            "created_at": self.created_at,
            "metrics": self.metrics,
            "intervals": {k: list(v) for k, v in self.intervals.items()},
            "gates": [gate.to_dict() for gate in self.gates],
            "passed": self.passed,
            "curves": self.curves,
            "importance": self.importance,
            "fairness": self.fairness,
            "slices": self.slices,
            "shap": self.shap,
            "unsupervised": self.unsupervised,
        }
        return dict(to_jsonable(data))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvaluationReport:
        """Rebuild a report from :meth:`to_dict` output (e.g. read back from the registry).

        Raises:
            InvalidInputError: a required key is missing.
        """
        try:
            return cls(
                model_ref=data["model"],
                task=data["task"],
                n_rows=int(data["n_rows"]),
                metrics={k: float(v) for k, v in data["metrics"].items()},
                intervals={
                    k: (float(v[0]), float(v[1])) for k, v in data.get("intervals", {}).items()
                },
                gates=[GateResult.from_dict(g) for g in data.get("gates", [])],
                curves=data.get("curves", {}),
                importance=data.get("importance", {}),
                fairness=data.get("fairness", {}),
                slices=data.get("slices", {}),
                shap=data.get("shap", {}),
                unsupervised=data.get("unsupervised", {}),
                dataset_id=data.get("dataset_id"),
                classes=list(data.get("classes", [])),
                positive_class=data.get("positive_class"),
                threshold=data.get("threshold"),
                n_unlabelled=int(data.get("n_unlabelled", 0)),
                created_at=data.get("created_at", ""),
            )
        except KeyError as exc:
            raise InvalidInputError(
                f"The evaluation report is missing the key {exc.args[0]!r}."
            ) from exc

    def to_html(self) -> str:
        from loopml.evaluate._html import evaluation_html

        return evaluation_html(self)

    def write(self, directory: str | os.PathLike[str]) -> tuple[Path, Path]:
        """Write ``evaluation.html`` and ``evaluation.json`` into ``directory`` (created if
        needed), each atomically. Returns ``(html_path, json_path)``."""
        folder = Path(directory)
        html_path = write_report(folder / HTML_NAME, self.to_html())
        json_path = write_report(folder / JSON_NAME, self.to_json())
        return html_path, json_path


def _labelled_rows(bundle: ModelBundle, frame: pd.DataFrame) -> tuple[pd.DataFrame, str, int]:
    if bundle.task not in SUPPORTED_TASKS:
        raise InvalidInputError(
            f"Cannot evaluate a {bundle.task} model.",
            hint=f"Evaluation supports: {', '.join(SUPPORTED_TASKS)}.",
        )
    target = bundle.contract.target
    if target is None:
        raise InvalidInputError(
            "The model's data contract names no target column, so there is nothing to score.",
            hint="Set 'target' in the contract the model was trained with.",
        )
    if target not in frame.columns:
        raise DataError(
            f"The evaluation data has no target column {target!r}.",
            hint="Evaluate on labelled data with the same columns as the training data.",
        )
    labelled = frame.loc[frame[target].notna()]
    if labelled.empty:
        raise DataError(
            f"The evaluation data has no rows with a value in the target column {target!r}.",
            hint="Evaluate on labelled rows.",
        )
    return labelled, target, len(frame) - len(labelled)


def evaluate_model(
    bundle: ModelBundle,
    frame: pd.DataFrame,
    *,
    model_ref: str,
    dataset_id: str | None = None,
    gates: list[GateResult] | None = None,
    intervals: bool = True,
    importance: bool = True,
    fairness: bool = True,
    slices: bool = True,
    explanations: bool = True,
    seed: int = 0,
) -> EvaluationReport:
    """Score ``bundle`` on ``frame`` (which holds the contract's target) and summarise it.

    Rows whose target is missing are left out (counted in ``n_unlabelled``). ``gates`` are
    attached as given (see :func:`evaluate_gates`). ``intervals`` adds 200-replicate bootstrap
    intervals; ``importance`` adds permutation importance on up to 2,000 rows; ``fairness``
    adds per-group metrics for the contract's sensitive columns found in ``frame``; ``slices``
    adds the worst-slice analysis; ``explanations`` adds mean |SHAP| per column on a sample.

    Clustering and anomaly models are evaluated by
    :func:`loopml.evaluate._unsupervised.evaluate_unsupervised` (no target needed).

    Raises:
        InvalidInputError: unsupported task, no target in the contract, labels the model
            does not know.
        DataError: the target or a feature column is missing, or no row is labelled.
    """
    if bundle.task in UNSUPERVISED:
        from loopml.evaluate._unsupervised import evaluate_unsupervised

        return evaluate_unsupervised(
            bundle,
            frame,
            model_ref=model_ref,
            dataset_id=dataset_id,
            gates=gates,
            intervals=intervals,
            seed=seed,
        )
    labelled, target, n_unlabelled = _labelled_rows(bundle, frame)
    predictions = bundle.predict_frame(labelled)
    scored = score_arrays(
        bundle.task,
        labelled[target],
        predictions,
        classes=bundle.classes,
        positive_class=bundle.positive_class,
    )
    is_binary = bundle.task == "binary"
    ranking = permutation_importances(bundle, labelled, scored, seed=seed) if importance else {}
    ranked = [f["name"] for f in ranking.get("features", [])]
    return EvaluationReport(
        model_ref=model_ref,
        task=bundle.task,
        n_rows=scored.n_rows,
        metrics=metrics_of(scored),
        intervals=intervals_of(scored, seed=seed) if intervals else {},
        gates=list(gates or []),
        curves=curve_summaries(scored, seed=seed),
        importance=ranking,
        fairness=fairness_summary(labelled, scored, bundle.contract) if fairness else {},
        slices=(
            worst_slices(labelled, scored, bundle.contract, ranked_columns=ranked) if slices else {}
        ),
        shap=shap_importance(bundle, labelled, seed=seed) if explanations else {},
        dataset_id=dataset_id,
        classes=[str(c) for c in bundle.classes],
        positive_class=str(scored.classes[scored.positive]) if is_binary else None,
        threshold=bundle.threshold if is_binary else None,
        n_unlabelled=n_unlabelled,
    )
