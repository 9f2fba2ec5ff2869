"""``loopml predict``: batch-score a file or a query with a registered model, recorded as a run.

The run (kind ``batch_predict``) carries the lineage of the scores: the model version (and so
its training run, dataset version, code commit and charter), the input (file path, size and
modification time, or the masked database URL and query), the output, the rows scored and
quarantined, and the contract violations found.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loopml.data._sql import mask_url
from loopml.errors import InvalidInputError
from loopml.project._project import Project, user_path
from loopml.serve._batch import (
    DEFAULT_CHUNK_ROWS,
    BatchResult,
    OnInvalid,
    score_file,
    score_query_to_file,
    score_to_table,
)
from loopml.store import ModelVersion
from loopml.tracking import start_run


@dataclass
class PredictOutcome:
    """What ``predict`` did: rows scored and quarantined, where they went, and the run id."""

    model: ModelVersion
    run_id: str
    n_rows: int
    output: Path | str
    seconds: float
    n_quarantined: int = 0
    quarantine: str | None = None
    violations: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model.ref,
            "run_id": self.run_id,
            "rows": self.n_rows,
            "output": str(self.output),
            "seconds": round(self.seconds, 3),
            "quarantined": self.n_quarantined,
            "quarantine": self.quarantine,
            "violations": self.violations,
        }


def predict(
    project: Project,
    ref: str,
    input_path: str | Path | None = None,
    output_path: str | Path | None = None,
    *,
    sql: str | None = None,
    query: str | None = None,
    output_table: str | None = None,
    on_invalid: OnInvalid | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: Callable[[int], None] | None = None,
    keep: Sequence[str] | None = None,
) -> PredictOutcome:
    """Score rows with the model ``ref``, streamed in chunks with bounded memory.

    Rows come from ``input_path`` (CSV or Parquet) or from ``query`` on the database ``sql``;
    they go to ``output_path`` (CSV or Parquet, written to a temporary file and renamed at the
    end) or are appended to ``output_table`` in the database ``sql`` (created when missing, one
    transaction). The output holds the input columns plus ``prediction`` and, for classifiers,
    one ``probability_<class>`` column per class. Rows breaking the data contract are handled
    per ``on_invalid`` (default: the charter's ``validation`` policy): ``quarantine`` sets them
    aside with their reasons, ``warn`` scores them and counts the violations, ``fail`` stops.
    ``keep`` narrows the input columns copied into the output (in its order; empty: none, only
    the model's outputs); quarantined rows keep every column.

    Raises:
        InvalidInputError: not exactly one input (file or query) and one output (file or
            table), a query/table without ``sql``, or ``keep`` names a column the input lacks.
        NotFoundError: unknown model or missing input file.
        DataError: the input lacks feature columns the model needs, breaks the contract under
            ``fail``, cannot be read, or the table exists with other columns.
    """
    source, target = _check_arguments(input_path, output_path, sql, query, output_table)
    if on_invalid is None:
        on_invalid = project.charter.validation
    model, bundle = project.registry.load(ref)
    with start_run(
        project.store,
        project.name,
        f"predict-{model.name}-v{model.version}",
        kind="batch_predict",
        dataset_id=model.dataset_id,
        artifacts=project.artifacts,
        code_dir=project.paths.root,
        tags={"model": model.ref, "model_run": model.run_id or ""},
    ) as run:
        kept = {} if keep is None else {"keep": ",".join(keep)}
        run.log_params({"model": model.ref, "on_invalid": on_invalid, **source, **target, **kept})
        options: dict[str, Any] = {
            "chunk_rows": chunk_rows,
            "progress": progress,
            "on_invalid": on_invalid,
            "keep": keep,
        }
        result = _score(bundle, input_path, output_path, sql, query, output_table, options)
        run.log_metrics(
            {
                "rows": float(result.n_rows),
                "quarantined": float(result.n_quarantined),
                "seconds": result.seconds,
                "rows_per_second": result.n_rows / result.seconds if result.seconds else 0.0,
            }
        )
        run.set_tags({"output": result.output, "quarantine": result.quarantine or ""})
        if result.violations:
            run.log_artifact(
                "violations.json", json.dumps(result.violations, indent=2).encode("utf-8")
            )
    return PredictOutcome(
        model=model,
        run_id=run.id,
        n_rows=result.n_rows,
        output=result.output_path or result.output,
        seconds=result.seconds,
        n_quarantined=result.n_quarantined,
        quarantine=result.quarantine,
        violations=result.violations,
    )


def _check_arguments(
    input_path: str | Path | None,
    output_path: str | Path | None,
    sql: str | None,
    query: str | None,
    output_table: str | None,
) -> tuple[dict[str, str], dict[str, str]]:
    """The run parameters describing the input and the output, once the arguments check out."""
    if (input_path is None) == (query is None):
        raise InvalidInputError(
            "Score either a file (--input) or a query (--query), exactly one of them.",
            hint="For example --input data.parquet, or --sql URL --query 'SELECT …'.",
        )
    if (output_path is None) == (output_table is None):
        raise InvalidInputError(
            "Write either a file (--output) or a table (--output-table), exactly one of them.",
            hint="For example --output scored.parquet, or --sql URL --output-table scores.",
        )
    if (query is not None or output_table is not None) and not sql:
        raise InvalidInputError(
            "--query and --output-table need the database URL in --sql.",
            hint="For example --sql postgresql+psycopg://user@host/db.",
        )
    if input_path is not None:
        path = user_path(input_path)
        stat = path.stat() if path.is_file() else None
        source = {"input": str(path)}
        if stat is not None:
            source |= {"input_bytes": str(stat.st_size), "input_mtime": str(stat.st_mtime)}
    else:
        source = {"input": mask_url(sql or ""), "query": str(query)}
    if output_path is not None:
        target = {"output": str(Path(output_path).expanduser().resolve())}
    else:
        target = {"output": mask_url(sql or ""), "output_table": str(output_table)}
    return source, target


def _score(
    bundle: Any,
    input_path: str | Path | None,
    output_path: str | Path | None,
    sql: str | None,
    query: str | None,
    output_table: str | None,
    options: dict[str, Any],
) -> BatchResult:
    if output_table is not None:
        source = user_path(input_path) if input_path is not None else None
        return score_to_table(
            bundle, sql or "", output_table, input_path=source, query=query, **options
        )
    target = Path(str(output_path)).expanduser().resolve()
    if query is not None:
        return score_query_to_file(bundle, sql or "", query, target, **options)
    return score_file(bundle, user_path(str(input_path)), target, **options)
