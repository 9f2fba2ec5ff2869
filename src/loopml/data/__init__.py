"""Data: sources, dataset versions, the data contract, validation, profiling and splits."""

from typing import TYPE_CHECKING

from loopml._lazy import lazy_exports

if TYPE_CHECKING:
    from loopml.data._contract import ColumnSpec, DataContract
    from loopml.data._contract_yaml import read_contract_yaml, write_contract_yaml
    from loopml.data._dictionary import data_dictionary, write_dictionary
    from loopml.data._diff import diff_frames
    from loopml.data._duckdb import describe_duckdb, read_duckdb
    from loopml.data._files import SUPPORTED_FORMATS, read_table
    from loopml.data._infer import infer_contract, infer_dtype, infer_task, parse_datetimes
    from loopml.data._leakage import DataWarning, check_leakage, feature_power
    from loopml.data._profile import DataProfile, profile_frame
    from loopml.data._report import REASON_COLUMN, ValidationReport, Violation, enforce
    from loopml.data._snapshot import content_hash, read_snapshot, to_arrow, to_snapshot_bytes
    from loopml.data._sources import describe_source, read_source
    from loopml.data._split import STRATEGIES, SplitResult, split_frame
    from loopml.data._sql import mask_url, read_sql
    from loopml.data._validate import compile_schema, validate

__all__ = [
    "REASON_COLUMN",
    "STRATEGIES",
    "SUPPORTED_FORMATS",
    "ColumnSpec",
    "DataContract",
    "DataProfile",
    "DataWarning",
    "SplitResult",
    "ValidationReport",
    "Violation",
    "check_leakage",
    "compile_schema",
    "content_hash",
    "data_dictionary",
    "describe_duckdb",
    "describe_source",
    "diff_frames",
    "enforce",
    "feature_power",
    "infer_contract",
    "infer_dtype",
    "infer_task",
    "mask_url",
    "parse_datetimes",
    "profile_frame",
    "read_contract_yaml",
    "read_duckdb",
    "read_snapshot",
    "read_source",
    "read_sql",
    "read_table",
    "split_frame",
    "to_arrow",
    "to_snapshot_bytes",
    "validate",
    "write_contract_yaml",
    "write_dictionary",
]

_EXPORTS = {
    "ColumnSpec": "loopml.data._contract",
    "DataContract": "loopml.data._contract",
    "read_contract_yaml": "loopml.data._contract_yaml",
    "write_contract_yaml": "loopml.data._contract_yaml",
    "data_dictionary": "loopml.data._dictionary",
    "write_dictionary": "loopml.data._dictionary",
    "diff_frames": "loopml.data._diff",
    "describe_duckdb": "loopml.data._duckdb",
    "read_duckdb": "loopml.data._duckdb",
    "SUPPORTED_FORMATS": "loopml.data._files",
    "read_table": "loopml.data._files",
    "infer_contract": "loopml.data._infer",
    "infer_dtype": "loopml.data._infer",
    "infer_task": "loopml.data._infer",
    "parse_datetimes": "loopml.data._infer",
    "DataWarning": "loopml.data._leakage",
    "check_leakage": "loopml.data._leakage",
    "feature_power": "loopml.data._leakage",
    "DataProfile": "loopml.data._profile",
    "profile_frame": "loopml.data._profile",
    "REASON_COLUMN": "loopml.data._report",
    "ValidationReport": "loopml.data._report",
    "Violation": "loopml.data._report",
    "enforce": "loopml.data._report",
    "content_hash": "loopml.data._snapshot",
    "read_snapshot": "loopml.data._snapshot",
    "to_arrow": "loopml.data._snapshot",
    "to_snapshot_bytes": "loopml.data._snapshot",
    "describe_source": "loopml.data._sources",
    "read_source": "loopml.data._sources",
    "STRATEGIES": "loopml.data._split",
    "SplitResult": "loopml.data._split",
    "split_frame": "loopml.data._split",
    "mask_url": "loopml.data._sql",
    "read_sql": "loopml.data._sql",
    "compile_schema": "loopml.data._validate",
    "validate": "loopml.data._validate",
}

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
