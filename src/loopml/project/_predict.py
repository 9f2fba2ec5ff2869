"""``loopml predict``: batch-score a file with a registered model, recorded as a tracked run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loopml.project._project import Project, user_path
from loopml.serve import score_file
from loopml.store import ModelVersion
from loopml.tracking import start_run


@dataclass
class PredictOutcome:
    model: ModelVersion
    run_id: str
    n_rows: int
    output: Path
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model.ref,
            "run_id": self.run_id,
            "rows": self.n_rows,
            "output": str(self.output),
            "seconds": round(self.seconds, 3),
        }


def predict(
    project: Project,
    ref: str,
    input_path: str | Path,
    output_path: str | Path,
    *,
    progress: Callable[[int], None] | None = None,
) -> PredictOutcome:
    """Score ``input_path`` (CSV or Parquet) into ``output_path`` with the model ``ref``.

    The output holds the input columns plus ``prediction`` and, for classifiers, one
    ``probability_<class>`` column per class. It is written to a temporary file and renamed at
    the end, so a failure never leaves a half-written output.

    Raises:
        NotFoundError: unknown model or missing input file.
        DataError: the input lacks feature columns the model needs.
    """
    model, bundle = project.registry.load(ref)
    source = user_path(input_path)
    target = Path(output_path).expanduser().resolve()
    with start_run(
        project.store,
        project.name,
        f"predict-{model.name}-v{model.version}",
        kind="batch_predict",
        dataset_id=model.dataset_id,
        code_dir=project.paths.root,
        tags={"model": model.ref},
    ) as run:
        run.log_params({"input": str(source), "output": str(target), "model": model.ref})
        result = score_file(bundle, source, target, progress=progress)
        run.log_metrics({"rows": float(result.n_rows), "seconds": result.seconds})
    return PredictOutcome(
        model=model, run_id=run.id, n_rows=result.n_rows, output=target, seconds=result.seconds
    )
