"""The drift-test interface and its registry.

Every statistical test lives in its own module, subclasses :class:`DriftTest` and registers
itself with :func:`register_drift_test`; :func:`get_drift_test` finds one by name.
"""

from __future__ import annotations

import abc
import importlib
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np

from loopml.errors import InvalidInputError
from loopml.monitor.drift._summary import (
    CategoricalSummary,
    ColumnSummary,
    NumericSummary,
    finite_values,
)

Kind = Literal["numeric", "categorical"]
Reference = np.ndarray | ColumnSummary
Current = np.ndarray | CategoricalSummary


@dataclass(frozen=True)
class DriftResult:
    """The outcome of one test on one column.

    ``p_value`` is ``None`` for distance tests; ``drifted`` applies ``threshold`` to the p-value
    (``p < threshold``) for significance tests and to the statistic (``statistic >= threshold``)
    for distance tests.
    """

    statistic: float
    p_value: float | None
    threshold: float
    drifted: bool


class DriftTest(abc.ABC):
    """A statistical test comparing a column's reference values with a new window.

    Contract for implementations:

    * Class attributes: ``name`` (unique, lower case, what users type), ``applies_to`` (the
      column kinds it accepts), ``default_threshold``, and ``uses_p_value`` (``True``: drifted
      when the p-value is below the threshold; ``False``: the statistic is a distance and
      drifted when it reaches the threshold).
    * :meth:`compute` takes the reference either as raw non-null values (``np.ndarray``,
      exact-data mode) or as the column's summary from a reference profile
      (:class:`NumericSummary` / :class:`CategoricalSummary`), and the current window as raw
      non-null values; categorical tests also accept the current window already counted
      (:class:`CategoricalSummary`), since they depend on counts only.
    * It is deterministic, never modifies its inputs, does no per-row Python work, and returns
      finite statistics. It raises :class:`InvalidInputError` for a column kind it does not
      apply to or an empty input.
    """

    name: ClassVar[str]
    applies_to: ClassVar[frozenset[Kind]]
    default_threshold: ClassVar[float]
    uses_p_value: ClassVar[bool]

    def __init__(self, threshold: float | None = None) -> None:
        value = self.default_threshold if threshold is None else float(threshold)
        if not np.isfinite(value) or value <= 0:
            raise InvalidInputError(
                f"The threshold of drift test {self.name!r} must be a positive number; "
                f"got {threshold!r}."
            )
        self.threshold = value

    @abc.abstractmethod
    def compute(self, reference: Reference, current: Current) -> DriftResult:
        """Compare ``current`` with ``reference``.

        Raises:
            InvalidInputError: the inputs are of a kind this test does not apply to, or empty.
        """

    def result(self, statistic: float, p_value: float | None = None) -> DriftResult:
        """The :class:`DriftResult` of ``statistic`` under this test's threshold rule."""
        if self.uses_p_value:
            if p_value is None:
                raise ValueError(f"drift test {self.name!r} must give a p-value")
            drifted = p_value < self.threshold
        else:
            drifted = statistic >= self.threshold
        return DriftResult(
            float(statistic), None if p_value is None else float(p_value), self.threshold, drifted
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(threshold={self.threshold!r})"


_REGISTRY: dict[str, type[DriftTest]] = {}


def register_drift_test(cls: type[DriftTest]) -> type[DriftTest]:
    """Class decorator adding ``cls`` to the registry under ``cls.name``.

    Raises:
        InvalidInputError: another class is already registered under that name.
    """
    existing = _REGISTRY.get(cls.name)
    if existing is not None and existing.__qualname__ != cls.__qualname__:
        raise InvalidInputError(
            f"A drift test named {cls.name!r} is already registered ({existing.__qualname__}).",
            hint="Give the new test another name.",
        )
    _REGISTRY[cls.name] = cls
    return cls


def _load_builtin_tests() -> None:
    importlib.import_module("loopml.monitor.drift")


def drift_tests() -> dict[str, type[DriftTest]]:
    """Every registered drift test, by name (sorted)."""
    _load_builtin_tests()
    return {name: _REGISTRY[name] for name in sorted(_REGISTRY)}


def get_drift_test(name: str, threshold: float | None = None) -> DriftTest:
    """An instance of the test registered as ``name`` (with ``threshold`` or its default).

    Raises:
        InvalidInputError: no test has that name (the message lists the known ones).
    """
    known = drift_tests()
    if name not in known:
        raise InvalidInputError(
            f"There is no drift test named {name!r}.",
            hint=f"Known tests: {', '.join(known)}.",
        )
    return known[name](threshold)


# -- input helpers shared by the tests ------------------------------------------------------


def numeric_reference(reference: Reference, test: str) -> NumericSummary:
    """The reference as a :class:`NumericSummary` (built from raw values when given those)."""
    if isinstance(reference, NumericSummary):
        return reference
    if isinstance(reference, CategoricalSummary):
        raise _wrong_kind(test, "numeric", "categorical")
    values = finite_values(reference, "reference")
    return NumericSummary.from_values(values, keep_data=True)


def reference_values(reference: Reference, test: str) -> np.ndarray:
    """Raw reference values: the array itself, the summary's exact data, else its sample."""
    if isinstance(reference, CategoricalSummary):
        raise _wrong_kind(test, "numeric", "categorical")
    if isinstance(reference, NumericSummary):
        return reference.data if reference.data is not None else reference.sample
    return finite_values(reference, "reference")


def numeric_current(current: Current, test: str) -> np.ndarray:
    """The current window's finite values, sorted (an already sorted array is not copied)."""
    if isinstance(current, CategoricalSummary):
        raise _wrong_kind(test, "numeric", "categorical")
    values = finite_values(current, "current")
    return values if bool(np.all(values[1:] >= values[:-1])) else np.sort(values)


def categorical(values: Reference | Current, what: str) -> CategoricalSummary:
    """``values`` counted by category (a summary passes through).

    Raises:
        InvalidInputError: there is no non-null value.
    """
    if isinstance(values, NumericSummary):
        if values.discrete is None:
            raise InvalidInputError(
                f"The {what} summary is numeric with many distinct values; "
                "it cannot be compared as categories.",
                hint="Use a numeric test (ks, wasserstein, psi, jensenshannon).",
            )
        values = values.discrete
    summary = values if isinstance(values, CategoricalSummary) else _count(values)
    if summary.n == 0:
        raise InvalidInputError(f"The {what} values hold no category to test.")
    return summary


def _count(values: np.ndarray) -> CategoricalSummary:
    return CategoricalSummary.from_values(np.asarray(values).ravel())


def _wrong_kind(test: str, expected: str, got: str) -> InvalidInputError:
    return InvalidInputError(
        f"Drift test {test!r} compares {expected} values but was given {got} ones.",
        hint="Pick a test that applies to this column's type.",
    )
