"""Registered drift tests: one module each, all behind :class:`DriftTest`.

Built in: ``psi``, ``ks``, ``chi2``, ``jensenshannon``, ``wasserstein``. Add one by
subclassing :class:`DriftTest` and decorating it with :func:`register_drift_test`.
"""

from loopml.monitor.drift import chi2, jensen_shannon, ks, psi, wasserstein
from loopml.monitor.drift._base import (
    DriftResult,
    DriftTest,
    Kind,
    drift_tests,
    get_drift_test,
    register_drift_test,
)
from loopml.monitor.drift._summary import (
    CategoricalSummary,
    ColumnSummary,
    NumericSummary,
    category_label,
    summary_from_dict,
)

__all__ = [
    "CategoricalSummary",
    "ColumnSummary",
    "DriftResult",
    "DriftTest",
    "Kind",
    "NumericSummary",
    "category_label",
    "chi2",
    "drift_tests",
    "get_drift_test",
    "jensen_shannon",
    "ks",
    "psi",
    "register_drift_test",
    "summary_from_dict",
    "wasserstein",
]
