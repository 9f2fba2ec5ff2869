"""Request schemas generated from a model's data contract, compiled once per loaded model.

A :class:`RequestSchema` holds the pydantic model of one request record (so ``/openapi.json``
documents every feature field), the validator of a list of records, and the per-column converters
that turn validated records into the model's input frame in training column order.
"""

from __future__ import annotations

import functools
import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model

from loopml.data._contract import ColumnSpec, DataContract
from loopml.errors import InvalidInputError
from loopml.serve._columns import ColumnBuilder, ColumnCheck, column_builder, column_check

MAX_ERROR_DETAILS = 100
"""Validation errors reported per response; the message still gives the total."""

_PYTHON_TYPES: dict[str, type] = {
    "integer": int,
    "float": float,
    "boolean": bool,
    "category": str,
    "string": str,
    "datetime": datetime,
}

_FRIENDLY_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not an input of this model",
    "finite_number": "must be a finite number (NaN and infinity are not accepted)",
    "model_type": "must be a JSON object mapping field names to values",
}


@dataclass(frozen=True, eq=False)
class RequestSchema:
    """The compiled request schema of one model.

    Attributes:
        record_model: pydantic model of one record; field aliases are the column names.
        columns: the model's input columns, in training order.
    """

    model_name: str
    record_model: type[BaseModel]
    columns: tuple[ColumnSpec, ...]
    _adapter: TypeAdapter[list[Any]]
    _attributes: tuple[str, ...]
    _builders: tuple[ColumnBuilder, ...]
    _checks: tuple[ColumnCheck, ...]

    @property
    def column_names(self) -> list[str]:
        """The input column names, in training order."""
        return list(self._names)

    @functools.cached_property
    def field_names(self) -> frozenset[str]:
        """The input column names as a set (for membership tests on every request)."""
        return frozenset(self._names)

    @functools.cached_property
    def _names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @functools.cached_property
    def datetime_columns(self) -> frozenset[str]:
        """Names of the datetime inputs (their values need ISO text in JSON logs)."""
        return frozenset(c.name for c in self.columns if c.dtype == "datetime")

    def example_record(self) -> dict[str, Any]:
        """A valid record built from the contract (a category it knows, mid-range numbers)."""
        return _example_record(self.columns)

    def validate(self, records: list[Any]) -> dict[str, list[Any]]:
        """Validate raw JSON records and return their values column by column.

        Raises:
            InvalidInputError: a record is not an object, a field is missing, of the wrong type,
                not finite, or not an input of the model (``details`` lists each problem with its
                ``field`` and ``record`` index).
        """
        if not records:
            raise InvalidInputError(
                "The request holds no records.", hint="Send one JSON object per record."
            )
        try:
            validated = self._adapter.validate_python(records)
        except ValidationError as exc:
            raise self._invalid_input(exc) from None
        rows = [self._row(record.__dict__) for record in validated]  # field values, in order
        return dict(zip(self._names, map(list, zip(*rows, strict=True)), strict=True))

    @functools.cached_property
    def _row(self) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
        """A validated record's values in column order, from its field dict (one C call)."""
        getter = operator.itemgetter(*self._attributes)
        if len(self._attributes) == 1:  # itemgetter of one key returns the value, not a tuple
            return lambda fields: (getter(fields),)
        return getter

    def frame(self, values: dict[str, list[Any]]) -> pd.DataFrame:
        """The model's input frame of validated column values (training column order and dtypes).

        Raises:
            InvalidInputError: a column's values cannot form one column (mixed time zones, …).
        """
        data = {
            spec.name: build(values[spec.name])
            for spec, build in zip(self.columns, self._builders, strict=True)
        }
        return pd.DataFrame(data, columns=self.column_names)

    def warnings(self, values: dict[str, list[Any]], n_records: int) -> list[list[dict[str, Any]]]:
        """Per record, the unseen categories and out-of-range numbers the contract's policies
        accept with a warning (``flag``).

        Raises:
            InvalidInputError: a value breaks a policy set to ``reject`` (``details`` lists each
                with its ``field`` and ``record``, like a schema error).
        """
        found: list[list[dict[str, Any]]] = [[] for _ in range(n_records)]
        if self._all_within(values):
            return found
        refused: list[dict[str, Any]] = []
        for check in self._checks:
            for i, value in enumerate(values[check.column]):
                message = check(value)
                if message is None:
                    continue
                if check.reject:
                    text = message.rstrip(".")
                    refused.append({"record": i, "field": check.column, "message": text})
                else:
                    found[i].append({"field": check.column, "message": message})
        if refused:
            refused.sort(key=lambda problem: problem["record"])  # stable: column order kept
            raise self._refused_values(refused)
        return found

    def _all_within(self, values: dict[str, list[Any]]) -> bool:
        """True when no value gets a warning: the common case, checked in one tight loop
        before the per-check pass that words the warnings."""
        for column, low, high in self._ranges:
            for value in values[column]:
                if value is not None and not low <= value <= high:
                    return False
        for column, known in self._categories:
            for value in values[column]:
                if value is not None and value not in known:
                    return False
        return True

    @functools.cached_property
    def _ranges(self) -> tuple[tuple[str, float, float], ...]:
        """``(column, low, high)`` of each range check, a missing bound as an infinity."""
        return tuple(
            (
                check.column,
                -math.inf if check.low is None else check.low,
                math.inf if check.high is None else check.high,
            )
            for check in self._checks
            if check.categories is None
        )

    @functools.cached_property
    def _categories(self) -> tuple[tuple[str, frozenset[str]], ...]:
        """``(column, known categories)`` of each category check."""
        return tuple(
            (check.column, check.categories)
            for check in self._checks
            if check.categories is not None
        )

    def _refused_values(self, refused: list[dict[str, Any]]) -> InvalidInputError:
        first = refused[0]
        sentence = f"record {first['record']}, field {first['field']!r}: {first['message']}"
        if len(refused) > 1:
            sentence = f"{len(refused)} values the contract refuses; the first: {sentence}"
        return InvalidInputError(
            f"{sentence[0].upper()}{sentence[1:]}.",
            hint=(
                f"Send values the model was trained on (GET /v1/models/{self.model_name}), or set "
                "the contract's unknown_categories / out_of_range policy to 'flag'."
            ),
            details=refused[:MAX_ERROR_DETAILS],
        )

    def _invalid_input(self, exc: ValidationError) -> InvalidInputError:
        errors = exc.errors(include_url=False, include_input=False, include_context=False)
        details = [_detail(error) for error in errors[:MAX_ERROR_DETAILS]]
        first = details[0]
        where = f"record {first['record']}" if first["record"] is not None else "the request"
        if first["field"] is not None:
            where += f", field {first['field']!r}"
        sentence = f"{where} {first['message']}"
        if len(errors) > 1:
            sentence = f"{len(errors)} problems in the request; the first: {sentence}"
        return InvalidInputError(
            f"{sentence[0].upper()}{sentence[1:]}.",
            hint=f"See GET /v1/models/{self.model_name} for the fields this model accepts.",
            details=details,
        )


def build_request_schema(model_name: str, contract: DataContract) -> RequestSchema:
    """Compile the request schema of a model from the contract it was trained on.

    Raises:
        InvalidInputError: the contract has no input columns.
    """
    columns = tuple(contract.feature_columns)
    if not columns:
        raise InvalidInputError(
            f"The data contract of model {model_name!r} has no feature columns to request.",
            hint="Mark the model's inputs with role 'feature' or 'text' in the contract.",
        )
    attributes = tuple(f"f{i}" for i in range(len(columns)))
    fields: dict[str, Any] = {
        attr: _field(spec, contract) for attr, spec in zip(attributes, columns, strict=True)
    }
    # Columns the contract knows but the model does not read (ids, times, ignored columns) are
    # accepted and ignored, so clients can send whole rows; unknown fields and the target are
    # refused unless the contract's extra_fields policy is "ignore".
    skipped = {spec.name for spec in columns} | {contract.target}
    passthrough = [spec for spec in contract.columns if spec.name not in skipped]
    for i, spec in enumerate(passthrough):
        fields[f"p{i}"] = _passthrough_field(spec)
    record_model = create_model(
        _model_title(model_name),
        __config__=ConfigDict(
            extra="ignore" if contract.extra_fields == "ignore" else "forbid",
            json_schema_extra={"examples": [_example_record(columns)]},
        ),
        __doc__=f"One record to score with model {model_name!r}: its input columns.",
        **fields,
    )
    checks = tuple(check for spec in columns if (check := column_check(spec, contract)) is not None)
    return RequestSchema(
        model_name=model_name,
        record_model=record_model,
        columns=columns,
        _adapter=TypeAdapter(list[record_model]),  # type: ignore[valid-type]
        _attributes=attributes,
        _builders=tuple(column_builder(spec) for spec in columns),
        _checks=checks,
    )


def _field(spec: ColumnSpec, contract: DataContract) -> tuple[Any, Any]:
    python_type: Any = _PYTHON_TYPES[spec.dtype]
    nullable = spec.max_null_share > 0
    options: dict[str, Any] = {
        "alias": spec.name,
        "description": _describe(spec, contract),
        "examples": [_example_value(spec)],
    }
    if spec.is_numeric:
        options["allow_inf_nan"] = False
    if spec.dtype in ("category", "string"):
        options["coerce_numbers_to_str"] = True
    # Every field must be present: a column that may be missing is sent as an explicit null, so
    # a client that forgets (or misspells) a field gets a 422 instead of a silent imputation.
    if nullable:
        return (Annotated[python_type | None, Field(**options)], ...)
    return (Annotated[python_type, Field(**options)], ...)


def _passthrough_field(spec: ColumnSpec) -> tuple[Any, Any]:
    description = f"{spec.role} column of the data contract; not a model input (ignored)."
    return (Annotated[Any, Field(alias=spec.name, description=description)], None)


def _describe(spec: ColumnSpec, contract: DataContract) -> str:
    parts = [spec.description.rstrip(".")] if spec.description else []
    parts.append(f"{spec.dtype} column")
    if spec.categories:
        shown = ", ".join(spec.categories[:20]) + (", …" if len(spec.categories) > 20 else "")
        others = "refused" if contract.unknown_categories == "reject" else "accepted with a warning"
        parts.append(f"known categories: {shown} (others are {others})")
    if spec.min is not None or spec.max is not None:
        outside = "refused" if contract.out_of_range == "reject" else "accepted with a warning"
        parts.append(f"training range [{spec.min}, {spec.max}] (values outside are {outside})")
    parts.append("required; may be null" if spec.max_null_share > 0 else "required")
    return "; ".join(parts) + "."


def _example_value(spec: ColumnSpec) -> Any:
    if spec.categories:
        return spec.categories[0]
    if spec.is_numeric:
        low = spec.min if spec.min is not None else 0.0
        high = spec.max if spec.max is not None else low
        middle = (low + high) / 2
        return round(middle) if spec.dtype == "integer" else middle
    examples: dict[str, Any] = {
        "boolean": False,
        "datetime": "2024-01-31T12:00:00",
        "string": "text",
        "category": "value",
    }
    return examples[spec.dtype]


def _example_record(columns: tuple[ColumnSpec, ...]) -> dict[str, Any]:
    return {spec.name: _example_value(spec) for spec in columns}


def _model_title(model_name: str) -> str:
    words = re.split(r"[^0-9A-Za-z]+", model_name)
    return "".join(w[:1].upper() + w[1:] for w in words if w) + "Record"


def _detail(error: Any) -> dict[str, Any]:
    loc = tuple(error["loc"])
    record = loc[0] if loc and isinstance(loc[0], int) else None
    field = str(loc[1]) if len(loc) > 1 else None
    message = _FRIENDLY_MESSAGES.get(error["type"])
    if message is None:
        text = str(error["msg"])
        message = f"is invalid: {text[:1].lower()}{text[1:]}"
    return {"field": field, "record": record, "message": message}
