"""Labelled rows from the serving loop: logged predictions joined with their ground truth."""

from __future__ import annotations

from typing import Any

import pandas as pd

from loopml.errors import DataError
from loopml.project._project import Project


def feedback_frame(project: Project) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Every logged prediction of the project's model that received feedback, as a training
    frame: the logged inputs, the label under the charter's target column and, when the contract
    has a time column, the prediction's time in it (when the row was observed).

    Raises:
        DataError: no logged prediction has ground truth yet.
    """
    target = project.charter.target
    assert target is not None
    records = project.store.predictions.list(model_name=project.name)
    labels = project.store.predictions.feedback([r.request_id for r in records])
    time_spec = project.contract().time_column
    rows = []
    for record in records:
        feedback = labels.get(record.request_id)
        if feedback is None:
            continue
        row = {**record.inputs, target: feedback.label}
        if time_spec is not None:
            row[time_spec.name] = record.time
        rows.append(row)
    if not rows:
        raise DataError(
            f"None of the {len(records)} logged predictions of {project.name!r} has ground truth.",
            hint="Send labels to POST /v1/feedback, or pass --data FILE.",
        )
    source = {"kind": "feedback", "predictions": len(records), "labelled": len(rows)}
    return pd.DataFrame.from_records(rows), source
