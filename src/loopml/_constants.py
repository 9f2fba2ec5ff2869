"""Constants that the CLI needs before any command runs (option defaults and choices in help).

They live here, in a module that imports nothing, so that ``loopml --help`` does not have to
import the registry (and with it pandas, scikit-learn, …). The registry re-exports them under
their usual names: ``loopml.registry.CHAMPION`` and the others.
"""

from __future__ import annotations

CHAMPION = "champion"
"""The alias of the model in production."""

CHALLENGER = "challenger"
"""The alias of the model that retraining proposes."""

EXPORT_FORMATS: tuple[str, ...] = ("joblib", "skops", "onnx", "mlflow")
"""The formats ``loopml models export`` writes."""

DEFAULT_MIN_AGE_S = 3600.0
"""Blobs younger than this are kept: a running job may have stored one it has not recorded yet."""

__all__ = ["CHALLENGER", "CHAMPION", "DEFAULT_MIN_AGE_S", "EXPORT_FORMATS"]
