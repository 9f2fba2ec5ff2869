"""Features: preprocessing pipelines built from the data contract, one style per model family,
and the charter's feature engineering (derived features, target encoding, selection, PCA)."""

from loopml.features._derived import DerivedFeatures, check_derived
from loopml.features._expressions import FUNCTIONS, parse_expression
from loopml.features._plan import (
    FeaturePlan,
    check_features,
    feature_steps,
    output_sources,
    pca_report,
    plan_features,
    selection_report,
)
from loopml.features._preprocess import (
    FAMILY_STYLES,
    Encoding,
    PreprocessStyle,
    build_preprocessor,
    dropped_columns,
    original_column_map,
    output_feature_name,
    preprocess_style,
)
from loopml.features._selection import FeatureSelector
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
    "FUNCTIONS",
    "CategoricalCodes",
    "DatetimeParts",
    "DerivedFeatures",
    "Encoding",
    "FeaturePlan",
    "FeatureSelector",
    "PreprocessStyle",
    "as_documents",
    "as_labels",
    "as_numbers",
    "build_preprocessor",
    "check_derived",
    "check_features",
    "dropped_columns",
    "feature_steps",
    "original_column_map",
    "output_feature_name",
    "output_sources",
    "parse_expression",
    "pca_report",
    "plan_features",
    "preprocess_style",
    "selection_report",
]
