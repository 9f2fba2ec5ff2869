"""Features: preprocessing pipelines built from the data contract, one style per model family."""

from loopml.features._preprocess import (
    FAMILY_STYLES,
    PreprocessStyle,
    build_preprocessor,
    dropped_columns,
    original_column_map,
    output_feature_name,
    preprocess_style,
)
from loopml.features._transformers import (
    DATETIME_PARTS,
    CategoricalCodes,
    DatetimeParts,
    as_documents,
    as_labels,
    as_numbers,
)

__all__ = [
    "DATETIME_PARTS",
    "FAMILY_STYLES",
    "CategoricalCodes",
    "DatetimeParts",
    "PreprocessStyle",
    "as_documents",
    "as_labels",
    "as_numbers",
    "build_preprocessor",
    "dropped_columns",
    "original_column_map",
    "output_feature_name",
    "preprocess_style",
]
