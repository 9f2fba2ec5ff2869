"""The charter (``loopml.yaml``): schema, loading with line-numbered errors, and writing."""

from loopml.charter._load import CHARTER_FILE, load_charter, parse_charter
from loopml.charter._model import (
    SUPERVISED_TASKS,
    Acceptance,
    AlertRule,
    AlertsSpec,
    Charter,
    ColumnsSpec,
    CostsSpec,
    DataSource,
    DataWindowSpec,
    EmailSpec,
    MonitoringSpec,
    RegistrySpec,
    RetrainingSpec,
    RetrainTriggers,
    SplitSpec,
    TaskName,
    TrainingSpec,
)
from loopml.charter._write import render_charter, write_charter

__all__ = [
    "CHARTER_FILE",
    "SUPERVISED_TASKS",
    "Acceptance",
    "AlertRule",
    "AlertsSpec",
    "Charter",
    "ColumnsSpec",
    "CostsSpec",
    "DataSource",
    "DataWindowSpec",
    "EmailSpec",
    "MonitoringSpec",
    "RegistrySpec",
    "RetrainTriggers",
    "RetrainingSpec",
    "SplitSpec",
    "TaskName",
    "TrainingSpec",
    "load_charter",
    "parse_charter",
    "render_charter",
    "write_charter",
]
