"""The model registry: versions, aliases (``champion``, ``challenger``, custom), governed
promotion, exports and loading."""

from loopml.registry._export import (
    EXPORT_FORMATS,
    SKOPS_TRUSTED_TYPES,
    ExportResult,
    export_model,
    load_joblib_export,
    load_skops_export,
)
from loopml.registry._gc import (
    DEFAULT_MIN_AGE_S,
    GarbageReport,
    collect_garbage,
    referenced_artifacts,
)
from loopml.registry._governance import (
    STAGE_OF_ALIAS,
    Governance,
    GovernancePolicy,
    Promotion,
    RegistrySettings,
)
from loopml.registry._ref import CHALLENGER, CHAMPION, ModelRef
from loopml.registry._registry import Registry, dump_bundle, load_bundle

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "DEFAULT_MIN_AGE_S",
    "EXPORT_FORMATS",
    "SKOPS_TRUSTED_TYPES",
    "STAGE_OF_ALIAS",
    "ExportResult",
    "GarbageReport",
    "Governance",
    "GovernancePolicy",
    "ModelRef",
    "Promotion",
    "Registry",
    "RegistrySettings",
    "collect_garbage",
    "dump_bundle",
    "export_model",
    "load_bundle",
    "load_joblib_export",
    "load_skops_export",
    "referenced_artifacts",
]
