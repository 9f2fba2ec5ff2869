"""Data: sources, dataset versions, the data contract, validation, profiling and splits."""

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
