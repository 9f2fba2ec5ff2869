"""Data: sources, dataset versions, the data contract, validation, profiling and splits."""

from loopml.data._contract import ColumnSpec, DataContract
from loopml.data._contract_yaml import read_contract_yaml, write_contract_yaml
from loopml.data._files import SUPPORTED_FORMATS, read_table
from loopml.data._infer import infer_contract, infer_dtype, infer_task, parse_datetimes
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
    "SplitResult",
    "ValidationReport",
    "Violation",
    "compile_schema",
    "content_hash",
    "describe_source",
    "enforce",
    "infer_contract",
    "infer_dtype",
    "infer_task",
    "mask_url",
    "parse_datetimes",
    "read_contract_yaml",
    "read_snapshot",
    "read_source",
    "read_sql",
    "read_table",
    "split_frame",
    "to_arrow",
    "to_snapshot_bytes",
    "validate",
    "write_contract_yaml",
]
