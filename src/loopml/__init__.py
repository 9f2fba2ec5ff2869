"""loopml: the machine-learning lifecycle of tabular business models as one loop.

The Python API mirrors the CLI::

    import loopml
    project = loopml.init("churn-project", data="customers.csv", target="churn")
    outcome = loopml.train(project)
    report = loopml.evaluate(project)        # renders inline in Jupyter

Names are imported lazily so that ``import loopml`` stays fast (the serving process imports little).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Project": "loopml.project",
    "init": ("loopml.project", "init_project"),
    "open_project": ("loopml.project", "Project.open"),
    "ingest": "loopml.project",
    "validate": ("loopml.project", "validate_data"),
    "train": "loopml.project",
    "evaluate": "loopml.project",
    "predict": "loopml.project",
    "monitor": "loopml.project",
    "retrain": "loopml.project",
    "build_app": "loopml.project",
    "start_run": "loopml.tracking",
    "Charter": "loopml.charter",
    "DataContract": "loopml.data",
    "ModelBundle": "loopml.train",
    "LoopmlError": "loopml.errors",
}

__all__ = ["__version__", *sorted(_EXPORTS)]

if TYPE_CHECKING:
    from loopml.charter import Charter
    from loopml.data import DataContract
    from loopml.errors import LoopmlError
    from loopml.project import (
        Project,
        build_app,
        evaluate,
        ingest,
        monitor,
        predict,
        retrain,
        train,
    )
    from loopml.project import init_project as init
    from loopml.project import validate_data as validate
    from loopml.tracking import start_run
    from loopml.train import ModelBundle

    open_project = Project.open


def __getattr__(name: str) -> Any:
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'loopml' has no attribute {name!r}")
    module_name, attribute = (target, name) if isinstance(target, str) else target
    value: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        value = getattr(value, part)
    globals()[name] = value
    return value
