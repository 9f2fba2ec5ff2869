"""The data contract: what each column is, what role it plays and what values it may take.

A contract is inferred from data (:func:`loopml.data.infer_contract`), written to
``contract.yaml`` for people to edit, and enforced at training, batch scoring and serving.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from loopml.errors import DataError, NotFoundError

Dtype = Literal["integer", "float", "boolean", "category", "string", "datetime"]
"""Logical type of a column. ``category`` is a string with few distinct values; ``string`` is free
text or an identifier."""

Role = Literal["feature", "target", "id", "time", "text", "ignore"]
"""What a column is for. ``text`` is a free-text feature (vectorised, not one-hot encoded)."""

MODEL_INPUT_ROLES: frozenset[str] = frozenset({"feature", "text"})

ExtraFieldsPolicy = Literal["reject", "ignore"]
"""What the serving API does with a request field the contract does not know."""

UnseenValuesPolicy = Literal["flag", "reject"]
"""What the serving API does with an unknown category or a number outside the training range:
``flag`` scores the record and returns a warning with it, ``reject`` answers 422."""


class ColumnSpec(BaseModel):
    """One column of the contract.

    ``min``/``max`` apply to numbers; ``categories`` lists the allowed values of a ``category``
    column (as strings); ``max_null_share`` is the largest tolerated share of missing values.
    ``sensitive`` marks a protected attribute audited for fairness; whether it is also a model
    input is decided by ``role``.
    """

    model_config = ConfigDict(extra="forbid")

    name: str
    dtype: Dtype
    role: Role = "feature"
    sensitive: bool = False
    max_null_share: float = Field(default=0.0, ge=0.0, le=1.0)
    min: float | None = None
    max: float | None = None
    categories: list[str] | None = None
    unique: bool = False
    description: str = ""

    @property
    def is_numeric(self) -> bool:
        return self.dtype in ("integer", "float")

    @property
    def is_model_input(self) -> bool:
        return self.role in MODEL_INPUT_ROLES


class DataContract(BaseModel):
    """The contract of a table: its columns in order, which one is the target, and the policies
    the serving API applies to requests that step outside it (``extra_fields``,
    ``unknown_categories``, ``out_of_range``; batch scoring follows ``--on-invalid`` instead)."""

    model_config = ConfigDict(extra="forbid")

    columns: list[ColumnSpec]
    target: str | None = None
    extra_fields: ExtraFieldsPolicy = "reject"
    unknown_categories: UnseenValuesPolicy = "flag"
    out_of_range: UnseenValuesPolicy = "flag"

    @model_validator(mode="after")
    def _check_consistency(self) -> DataContract:
        names = [c.name for c in self.columns]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"column names must be unique; duplicated: {', '.join(duplicated)}")
        if self.target is not None and self.target not in names:
            raise ValueError(f"target {self.target!r} is not one of the columns")
        return self

    # -- lookups -------------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> ColumnSpec:
        """The spec of ``name``. Raises NotFoundError if there is no such column."""
        for spec in self.columns:
            if spec.name == name:
                return spec
        raise NotFoundError(
            f"The data contract has no column {name!r}.",
            hint=f"Known columns: {', '.join(self.names)}.",
        )

    @property
    def feature_columns(self) -> list[ColumnSpec]:
        """Columns the model reads, in contract order (roles ``feature`` and ``text``)."""
        return [c for c in self.columns if c.is_model_input and c.name != self.target]

    @property
    def feature_names(self) -> list[str]:
        return [c.name for c in self.feature_columns]

    @property
    def sensitive_columns(self) -> list[ColumnSpec]:
        return [c for c in self.columns if c.sensitive]

    @property
    def target_column(self) -> ColumnSpec | None:
        return self.column(self.target) if self.target else None

    @property
    def time_column(self) -> ColumnSpec | None:
        return next((c for c in self.columns if c.role == "time"), None)

    # -- persistence ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_defaults=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DataContract:
        try:
            return cls.model_validate(data)
        except ValueError as exc:
            raise DataError(f"The data contract is not valid: {exc}") from exc

    def to_yaml(self, path: Path) -> None:
        """Write the contract as an editable, commented YAML file (atomically)."""
        from loopml.data._contract_yaml import write_contract_yaml

        write_contract_yaml(self, path)

    @classmethod
    def from_yaml(cls, path: Path) -> DataContract:
        """Read a contract written by :meth:`to_yaml` (possibly edited by a person).

        Raises:
            NotFoundError: the file does not exist.
            DataError: the file is not a valid contract (message names the line).
        """
        from loopml.data._contract_yaml import read_contract_yaml

        return read_contract_yaml(path)
