"""One error hierarchy for the CLI, the Python API and HTTP.

Every error a user can cause is a :class:`LoopmlError` subclass. Its message is one sentence that
says what is wrong, optionally followed by ``hint`` (how to fix it). Each class carries the CLI exit
code and the HTTP status it maps to, in one table (:data:`ERROR_TABLE`), so the three ways in
report the same failure the same way.
"""

from __future__ import annotations

from typing import Any, ClassVar


class LoopmlError(Exception):
    """Base class of every error a user can cause or fix.

    Args:
        message: one sentence saying what is wrong.
        hint: what to do about it (optional).
        details: machine-readable context (field names, counts, …) for ``--json`` and HTTP bodies.
    """

    exit_code: ClassVar[int] = 1
    http_status: ClassVar[int] = 500
    code: ClassVar[str] = "error"

    def __init__(self, message: str, *, hint: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} {self.hint}"
        return self.message

    def to_dict(self) -> dict[str, Any]:
        """The error as a JSON-able object: ``{"error": code, "message": …, "hint": …}``."""
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.hint:
            body["hint"] = self.hint
        if self.details is not None:
            body["details"] = self.details
        return body


class InvalidInputError(LoopmlError):
    """An argument, file or request is malformed or inconsistent."""

    exit_code = 2
    http_status = 422
    code = "invalid_input"


class CharterError(InvalidInputError):
    """``loopml.yaml`` is missing, unreadable or does not validate."""

    code = "invalid_charter"


class DataError(InvalidInputError):
    """A data file or table cannot be read, or breaks the data contract."""

    code = "invalid_data"


class NotFoundError(LoopmlError):
    """A project, dataset version, run, model, alias or record does not exist."""

    exit_code = 3
    http_status = 404
    code = "not_found"


class AlreadyExistsError(LoopmlError):
    """Something with that identity already exists (a project, a model version, …)."""

    exit_code = 4
    http_status = 409
    code = "already_exists"


class GateFailedError(LoopmlError):
    """An acceptance gate (minimum score, margin, latency, fairness) did not pass."""

    exit_code = 5
    http_status = 409
    code = "gate_failed"


class StoreError(LoopmlError):
    """The metadata store cannot be reached or refused an operation."""

    exit_code = 6
    http_status = 503
    code = "store_unavailable"


class ConflictError(LoopmlError):
    """What was to be changed was changed by someone else since it was read; read it again."""

    exit_code = 9
    http_status = 409
    code = "conflict"


class ArtifactIntegrityError(LoopmlError):
    """An artifact's bytes no longer match the SHA-256 it was stored under (tampered or corrupt)."""

    exit_code = 7
    http_status = 500
    code = "artifact_corrupt"


class TrainingError(LoopmlError):
    """Training could not produce any model (nothing fitted inside the budget, …)."""

    exit_code = 8
    http_status = 500
    code = "training_failed"


ERROR_TABLE: dict[type[LoopmlError], tuple[int, int]] = {
    cls: (cls.exit_code, cls.http_status)
    for cls in (
        LoopmlError,
        InvalidInputError,
        CharterError,
        DataError,
        NotFoundError,
        AlreadyExistsError,
        GateFailedError,
        StoreError,
        ArtifactIntegrityError,
        TrainingError,
        ConflictError,
    )
}
"""Every error class with its (CLI exit code, HTTP status)."""

__all__ = [
    "ERROR_TABLE",
    "AlreadyExistsError",
    "ArtifactIntegrityError",
    "CharterError",
    "ConflictError",
    "DataError",
    "GateFailedError",
    "InvalidInputError",
    "LoopmlError",
    "NotFoundError",
    "StoreError",
    "TrainingError",
]
