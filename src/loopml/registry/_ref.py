"""Model references: ``name``, ``name:version`` and ``name@alias``."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Defined in loopml._constants, which the CLI reads without importing the registry.
from loopml._constants import CHALLENGER as CHALLENGER
from loopml._constants import CHAMPION as CHAMPION
from loopml.errors import InvalidInputError

_REF = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9_.-]*)"
    r"(?:(?::(?P<version>\d+))|(?:@(?P<alias>[A-Za-z][A-Za-z0-9_-]*)))?$"
)


@dataclass(frozen=True)
class ModelRef:
    """A reference to a model version: exactly one of ``version`` or ``alias``, or neither (the
    bare name means the champion when there is one, else the newest version)."""

    name: str
    version: int | None = None
    alias: str | None = None

    @classmethod
    def parse(cls, text: str) -> ModelRef:
        """Parse ``churn``, ``churn:3`` or ``churn@champion``.

        Raises:
            InvalidInputError: the text is not a model reference.
        """
        match = _REF.match(text.strip())
        if not match:
            raise InvalidInputError(
                f"{text!r} is not a model reference.",
                hint="Use NAME, NAME:VERSION (churn:3) or NAME@ALIAS (churn@champion).",
            )
        version = match.group("version")
        return cls(
            name=match.group("name"),
            version=int(version) if version else None,
            alias=match.group("alias"),
        )

    def __str__(self) -> str:
        if self.version is not None:
            return f"{self.name}:{self.version}"
        if self.alias is not None:
            return f"{self.name}@{self.alias}"
        return self.name
