"""Data: sources, dataset versions, the data contract, validation, profiling and splits."""

from loopml.data._contract import ColumnSpec, DataContract

__all__ = ["ColumnSpec", "DataContract"]
