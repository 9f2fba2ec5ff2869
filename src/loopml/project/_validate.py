"""``loopml validate``: check a dataset version or a file against the data contract."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loopml.data import ValidationReport, validate
from loopml.project._ingest import load_dataset, read_source
from loopml.project._project import Project, user_path


@dataclass
class ValidateOutcome:
    """The validation report and what it was run on."""

    report: ValidationReport
    data: str
    policy: str

    def to_dict(self) -> dict[str, Any]:
        return {"data": self.data, "policy": self.policy, **self.report.to_dict()}


def validate_data(
    project: Project,
    data: str | Path | None = None,
    *,
    version_id: str | None = None,
    require_target: bool = True,
) -> ValidateOutcome:
    """Validate ``data`` (a file), or a dataset version (default: the newest, ingesting the
    charter's source first when nothing has been ingested), against ``contract.yaml``."""
    if data is not None:
        frame, _source = read_source(project, data)
        label = str(user_path(data))
    else:
        version, frame = load_dataset(project, version_id)
        label = f"dataset version {version.id}"
    report = validate(frame, project.contract(), require_target=require_target)
    return ValidateOutcome(report=report, data=label, policy=project.charter.validation)
