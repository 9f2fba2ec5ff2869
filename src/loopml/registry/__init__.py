"""The model registry: versions, aliases (``champion``, ``challenger``, custom), governed
promotion, exports and loading."""

from typing import TYPE_CHECKING

from loopml._lazy import lazy_exports

if TYPE_CHECKING:
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

_EXPORTS = {
    "EXPORT_FORMATS": "loopml.registry._export",
    "SKOPS_TRUSTED_TYPES": "loopml.registry._export",
    "ExportResult": "loopml.registry._export",
    "export_model": "loopml.registry._export",
    "load_joblib_export": "loopml.registry._export",
    "load_skops_export": "loopml.registry._export",
    "DEFAULT_MIN_AGE_S": "loopml.registry._gc",
    "GarbageReport": "loopml.registry._gc",
    "collect_garbage": "loopml.registry._gc",
    "referenced_artifacts": "loopml.registry._gc",
    "STAGE_OF_ALIAS": "loopml.registry._governance",
    "Governance": "loopml.registry._governance",
    "GovernancePolicy": "loopml.registry._governance",
    "Promotion": "loopml.registry._governance",
    "RegistrySettings": "loopml.registry._governance",
    "CHALLENGER": "loopml.registry._ref",
    "CHAMPION": "loopml.registry._ref",
    "ModelRef": "loopml.registry._ref",
    "Registry": "loopml.registry._registry",
    "dump_bundle": "loopml.registry._registry",
    "load_bundle": "loopml.registry._registry",
}

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
