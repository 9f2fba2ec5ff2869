"""Preprocessing pipelines built from the data contract, one style per model family.

Every model family gets a :class:`~sklearn.compose.ColumnTransformer` that reads the contract's
feature columns from a DataFrame and never raises on values unseen in training (unknown
categories, missing values, unparseable dates). The styles:

- ``scaled`` (linear, knn, mlp, svm): numbers median-imputed with missing indicators and
  standardised; categories and booleans one-hot encoded (rare ones grouped, unknown ones into the
  rare group or ignored); dates expanded into parts; text columns TF-IDF vectorised.
- ``ordinal`` (random_forest, extra_trees): as ``scaled`` without scaling, categories ordinal
  encoded (unknown -> -1), text columns dropped.
- ``native`` (lightgbm, hist_gradient_boosting, xgboost): numbers and date parts keep NaN (the
  boosters route missing values themselves), categories become pandas ``category`` columns that the
  boosters split on natively; text dropped.
- ``none`` (dummy): every column is dropped; the estimator ignores its input.

Dropped columns are recorded in the transformer (see :func:`dropped_columns`), and every output
feature maps back to the column it came from (:func:`original_column_map`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    OneHotEncoder,
    OrdinalEncoder,
    StandardScaler,
    TargetEncoder,
)
from sklearn.utils.validation import check_is_fitted

from loopml.data._contract import DataContract
from loopml.errors import DataError, InvalidInputError
from loopml.features._transformers import (
    MISSING_LABEL,
    CategoricalCodes,
    DatetimeParts,
    as_documents,
    as_labels,
    as_numbers,
)

PreprocessStyle = Literal["scaled", "ordinal", "native", "none"]

FAMILY_STYLES: dict[str, PreprocessStyle] = {
    "dummy": "none",
    "linear": "scaled",
    "knn": "scaled",
    "mlp": "scaled",
    "svm": "scaled",
    "random_forest": "ordinal",
    "extra_trees": "ordinal",
    "lightgbm": "native",
    "hist_gradient_boosting": "native",
    "xgboost": "native",
    "kmeans": "scaled",
    "gaussian_mixture": "scaled",
    "dbscan": "scaled",
    "isolation_forest": "scaled",
    "lof": "scaled",
}
"""The preprocessing style of each model family."""

MIN_CATEGORY_COUNT = 5
"""Categories seen fewer times than this in training are grouped into one 'infrequent' value."""
MAX_CATEGORIES = 30
"""At most this many encoded values per categorical column (the rest are grouped)."""
TEXT_MAX_FEATURES = 500
"""Vocabulary size of the TF-IDF vectoriser of each text column."""

_JSON_SPECIAL = str.maketrans({c: "_" for c in '",:[]{}'})


def output_feature_name(transformer: str, feature: str) -> str:
    """Name of an output feature: ``<transformer>__<feature>``.

    JSON special characters become ``_`` because LightGBM rejects them in feature names.
    """
    return f"{transformer}__{feature}".translate(_JSON_SPECIAL)


def preprocess_style(family: str) -> PreprocessStyle:
    """The preprocessing style of ``family``.

    Raises:
        InvalidInputError: ``family`` is not a known model family.
    """
    try:
        return FAMILY_STYLES[family]
    except KeyError:
        raise InvalidInputError(
            f"Unknown model family {family!r}.",
            hint=f"Choose one of: {', '.join(FAMILY_STYLES)}.",
        ) from None


@dataclass
class _ColumnGroups:
    numeric: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    high_cardinality: list[str] = field(default_factory=list)
    every_categorical: list[str] = field(default_factory=list)  # both kinds, contract order
    datetime: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Encoding:
    """How a preprocessor treats columns beyond the contract (see :class:`FeaturePlan`).

    Attributes:
        derived: names of derived numeric columns the input also holds.
        target_encoded: categorical columns target-encoded (cross-fitted) by the ``scaled``
            and ``ordinal`` styles instead of one-hot / ordinal encoded.
        target_type: ``binary``, ``multiclass`` or ``continuous`` (the target encoder's).
        scale: whether the ``scaled`` style standardises inside the transformer (False when a
            later step scales).
        dense: never return a sparse matrix (later steps need dense input).
        seed: random seed of the target encoder's cross-fitting.
        category_codes: the ``native`` style gives categories as plain ordinal codes (missing
            and unknown values NaN) rather than pandas ``category`` columns, so a booster
            splits them as ordered numbers; with many levels this often overfits less than
            native categorical splits (a tuned choice of the ``lightgbm`` family).
    """

    derived: tuple[str, ...] = ()
    target_encoded: tuple[str, ...] = ()
    target_type: str = "auto"
    scale: bool = True
    dense: bool = False
    seed: int = 0
    category_codes: bool = False


def _column_groups(contract: DataContract, encoding: Encoding) -> _ColumnGroups:
    groups = _ColumnGroups()
    for spec in contract.feature_columns:
        if spec.role == "text":
            groups.text.append(spec.name)
        elif spec.is_numeric:
            groups.numeric.append(spec.name)
        elif spec.dtype == "datetime":
            groups.datetime.append(spec.name)
        else:  # boolean, category, string
            high = spec.name in encoding.target_encoded
            (groups.high_cardinality if high else groups.categorical).append(spec.name)
            groups.every_categorical.append(spec.name)
    groups.numeric.extend(encoding.derived)
    return groups


def build_preprocessor(
    contract: DataContract, family: str, encoding: Encoding | None = None
) -> ColumnTransformer:
    """An unfitted ColumnTransformer turning the contract's feature columns into model inputs.

    The output is a pandas DataFrame, except for the ``scaled`` style with text columns (TF-IDF
    output may be sparse; a dense array with ``encoding.dense``). ``encoding`` adds derived
    columns and target encoding of high-cardinality columns (the ``native`` style keeps its
    native categories).

    Raises:
        InvalidInputError: ``family`` is unknown, or it can use none of the feature columns
            (e.g. a tree family given only text columns).
        DataError: the contract has no feature columns.
    """
    style = preprocess_style(family)
    encoding = encoding or Encoding()
    features = contract.feature_names
    if not features:
        raise DataError(
            "The data contract has no feature columns, so there is nothing to learn from.",
            hint="Give at least one column the role 'feature' or 'text' in the contract.",
        )
    if style == "none":
        transformers: list[tuple[str, Any, Any]] = [("unused", "drop", features)]
    else:
        transformers = _transformers(_column_groups(contract, encoding), style, encoding)
        if all(t == "drop" for _, t, _ in transformers):
            raise InvalidInputError(
                f"The {family} family can use none of the feature columns "
                f"({', '.join(features)}): text columns are only used by linear models.",
                hint="Train a linear family, or add numeric, categorical or date features.",
            )
    preprocessor = ColumnTransformer(
        transformers,
        remainder="drop",
        verbose_feature_names_out=output_feature_name,
        sparse_threshold=0.0 if encoding.dense else 0.3,
    )
    has_text = any(name.startswith("text_") for name, _, _ in transformers)
    if not has_text:
        preprocessor.set_output(transform="pandas")
    return preprocessor


def _transformers(
    groups: _ColumnGroups, style: PreprocessStyle, encoding: Encoding
) -> list[tuple[str, Any, Any]]:
    out: list[tuple[str, Any, Any]] = []
    scaled = style == "scaled" and encoding.scale
    if groups.numeric:
        out.append(("numeric", _numeric_pipeline(style, scaled), groups.numeric))
    categorical, high = groups.categorical, groups.high_cardinality
    if style == "native":  # the boosters split on native categories, whatever their number
        categorical, high = groups.every_categorical, []
    if categorical:
        codes = encoding.category_codes
        out.append(("categorical", _categorical_pipeline(style, codes), categorical))
    if high:
        target = _target_pipeline(encoding, scaled)
        out.append(("high_cardinality", target, high))
    if groups.datetime:
        out.append(("datetime", _datetime_pipeline(style, scaled), groups.datetime))
    if groups.text and style == "scaled":
        # One vectoriser per column: a column name (not a list) hands it a 1-D series of text.
        out.extend((f"text_{i}", _text_pipeline(), col) for i, col in enumerate(groups.text))
    elif groups.text:
        out.append(("dropped_text", "drop", groups.text))
    return out


def _imputed(style: PreprocessStyle, scaled: bool) -> list[tuple[str, Any]]:
    steps: list[tuple[str, Any]] = []
    if style != "native":
        steps.append(("impute", SimpleImputer(strategy="median", add_indicator=True)))
    if scaled:
        steps.append(("scale", StandardScaler()))
    return steps


def _numeric_pipeline(style: PreprocessStyle, scaled: bool) -> Pipeline:
    to_numbers = FunctionTransformer(as_numbers, feature_names_out="one-to-one")
    return Pipeline([("as_numbers", to_numbers), *_imputed(style, scaled)])


def _datetime_pipeline(style: PreprocessStyle, scaled: bool) -> Pipeline:
    return Pipeline([("parts", DatetimeParts()), *_imputed(style, scaled)])


def _target_pipeline(encoding: Encoding, scaled: bool) -> Pipeline:
    """High-cardinality categories replaced by the (cross-fitted) mean target per category."""
    # The cross-fitting folds are shuffled with the run's seed (stratified for classes), as
    # TargetEncoder's own default of five folds would do.
    folds: KFold | StratifiedKFold = KFold(5, shuffle=True, random_state=encoding.seed)
    if encoding.target_type in ("binary", "multiclass"):
        folds = StratifiedKFold(5, shuffle=True, random_state=encoding.seed)
    encoder = TargetEncoder(target_type=encoding.target_type, cv=folds)
    steps: list[tuple[str, Any]] = [
        ("as_labels", FunctionTransformer(as_labels, feature_names_out="one-to-one")),
        ("impute", SimpleImputer(strategy="constant", fill_value=MISSING_LABEL)),
        ("encode", encoder),
    ]
    if scaled:
        steps.append(("scale", StandardScaler()))
    return Pipeline(steps)


def _categorical_pipeline(style: PreprocessStyle, codes: bool = False) -> Pipeline:
    steps: list[tuple[str, Any]] = [
        ("as_labels", FunctionTransformer(as_labels, feature_names_out="one-to-one"))
    ]
    limits: dict[str, Any] = {"min_frequency": MIN_CATEGORY_COUNT, "max_categories": MAX_CATEGORIES}
    if style == "native":
        encoder = OrdinalEncoder(
            handle_unknown="use_encoded_value",
            unknown_value=np.nan,
            encoded_missing_value=np.nan,
            **limits,
        )
        if codes:
            return Pipeline([*steps, ("encode", encoder)])
        return Pipeline([*steps, ("encode", encoder), ("as_category", CategoricalCodes())])
    steps.append(("impute", SimpleImputer(strategy="constant", fill_value=MISSING_LABEL)))
    if style == "scaled":
        steps.append(
            (
                "encode",
                OneHotEncoder(handle_unknown="infrequent_if_exist", sparse_output=False, **limits),
            )
        )
    else:
        steps.append(
            (
                "encode",
                OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, **limits),
            )
        )
    return Pipeline(steps)


def _text_pipeline() -> Pipeline:
    return Pipeline(
        [
            ("as_documents", FunctionTransformer(as_documents, feature_names_out="one-to-one")),
            ("tfidf", TfidfVectorizer(max_features=TEXT_MAX_FEATURES, sublinear_tf=True)),
        ]
    )


def _fitted_transformers(preprocessor: ColumnTransformer) -> list[tuple[str, Any, Any]]:
    try:
        check_is_fitted(preprocessor, "transformers_")
    except Exception as exc:
        raise InvalidInputError(
            "The preprocessor is not fitted yet.", hint="Fit the pipeline before asking for it."
        ) from exc
    return list(preprocessor.transformers_)


def original_column_map(preprocessor: ColumnTransformer) -> dict[str, str]:
    """Map each output feature of a fitted preprocessor to the input column it came from.

    Keys are in the order of ``preprocessor.get_feature_names_out()``.

    Raises:
        InvalidInputError: the preprocessor is not fitted.
    """
    mapping: dict[str, str] = {}
    for name, transformer, columns in _fitted_transformers(preprocessor):
        if isinstance(transformer, str):  # "drop" / "passthrough" of an empty remainder
            continue
        if not isinstance(columns, str) and len(columns) == 0:  # left unfitted, no output
            continue
        if isinstance(columns, str):
            inner = transformer.get_feature_names_out([columns])
            mapping.update({output_feature_name(name, str(f)): columns for f in inner})
            continue
        cols = [str(c) for c in columns]
        for feature in transformer.get_feature_names_out(cols):
            mapping[output_feature_name(name, str(feature))] = _source_column(str(feature), cols)
    return mapping


def _source_column(feature: str, columns: list[str]) -> str:
    """The column of ``columns`` an inner feature name (``col``, ``col_value``, …) derives from."""
    if feature in columns:
        return feature
    prefix = "missingindicator_"
    if feature.startswith(prefix) and feature[len(prefix) :] in columns:
        return feature[len(prefix) :]
    if feature.startswith(prefix):
        feature = feature[len(prefix) :]
    matches = [c for c in columns if feature == c or feature.startswith(f"{c}_")]
    # The longest prefix wins: "age_group_x" comes from "age_group", not "age".
    return max(matches, key=len) if matches else feature


def dropped_columns(preprocessor: ColumnTransformer) -> list[str]:
    """Feature columns a preprocessor ignores (text for tree families, everything for dummy)."""
    dropped: list[str] = []
    for name, transformer, columns in preprocessor.transformers:
        if transformer == "drop" and name != "remainder":
            dropped.extend([columns] if isinstance(columns, str) else list(columns))
    return dropped
