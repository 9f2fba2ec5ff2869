"""``loopml compare A B``: two model versions on the same labelled rows, with paired tests.

The retraining loop calls :func:`compare` (or :func:`loopml.evaluate.compare_models` directly on
a frame it already holds) to judge a challenger against the champion.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from loopml.evaluate import Comparison, compare_models
from loopml.project._evaluate import holdout_of
from loopml.project._ingest import read_source
from loopml.project._project import Project, user_path
from loopml.train import default_metric


@dataclass
class CompareOutcome:
    comparison: Comparison
    data: str

    def to_dict(self) -> dict[str, Any]:
        return {**self.comparison.to_dict(), "data": self.data}


def compare(
    project: Project,
    a: str,
    b: str,
    *,
    data: str | Path | pd.DataFrame | None = None,
    metric: str | None = None,
    alpha: float = 0.05,
) -> CompareOutcome:
    """Compare model versions ``a`` and ``b`` on ``data`` (a file, a frame, or by default the
    holdout of the newer of the two) on ``metric`` (default: the charter's primary metric).

    Raises:
        NotFoundError: no such model version.
        InvalidInputError: different tasks, or a metric undefined on the data.
        DataError: the data lacks the target or a feature column.
    """
    model_a, bundle_a = project.registry.load(a)
    model_b, bundle_b = project.registry.load(b)
    if isinstance(data, pd.DataFrame):
        frame, label = data, "the given rows"
    elif data is not None:
        frame, _source = read_source(project, data)
        label = str(user_path(data))
    else:
        newer, bundle = max(
            ((model_a, bundle_a), (model_b, bundle_b)), key=lambda p: p[0].created_at
        )
        frame = holdout_of(project, newer, bundle)
        label = f"holdout of {newer.ref} (dataset {newer.dataset_id})"
    chosen = metric or project.charter.metric or default_metric(bundle_a.task)  # type: ignore[arg-type]
    comparison = compare_models(
        bundle_a, bundle_b, frame, metric=chosen, ref_a=model_a.ref, ref_b=model_b.ref, alpha=alpha
    )
    return CompareOutcome(comparison, label)
