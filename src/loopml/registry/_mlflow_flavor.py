"""MLflow's ``python_function`` loader for models exported by ``loopml models export --format
mlflow`` (the ``loader_module`` named in their ``MLmodel`` file).

``mlflow.pyfunc.load_model(folder)`` imports this module and calls :func:`_load_pyfunc` with the
path of the exported ``model.joblib``; the file's SHA-256 is checked against the export's
``manifest.json`` before it is unpickled. Needs loopml (and the packages pinned in the folder's
``requirements.txt``) importable in the loading environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from loopml.registry._export import load_joblib_export
from loopml.train import ModelBundle


class LoopmlPyfuncModel:
    """The object MLflow wraps: ``predict(DataFrame)`` returns the loopml prediction frame
    (``prediction`` plus ``probability_<class>`` columns for classifiers)."""

    def __init__(self, bundle: ModelBundle) -> None:
        self.bundle = bundle

    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> pd.DataFrame:
        """Predictions for each row of ``model_input`` (a DataFrame, or anything
        ``pandas.DataFrame`` accepts); ``params`` are not used.

        Raises:
            DataError: a feature column is missing.
        """
        del params
        frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        return self.bundle.predict_frame(frame)


def _load_pyfunc(path: str, model_config: dict[str, Any] | None = None) -> LoopmlPyfuncModel:
    """Load the model whose ``model.joblib`` is at ``path`` (MLflow's ``data`` path).

    Raises:
        ArtifactIntegrityError: the file does not match the SHA-256 in ``manifest.json``.
    """
    del model_config
    return LoopmlPyfuncModel(load_joblib_export(Path(path).parent))
