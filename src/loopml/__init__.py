"""loopml: the machine-learning lifecycle of tabular business models as one loop.

The Python API mirrors the CLI::

    import loopml
    project = loopml.init("churn-project", data="customers.csv", target="churn")
    outcome = project.train(time_budget=60)
    report = project.evaluate().report      # renders inline in Jupyter

Names are imported lazily so that ``import loopml`` stays fast (the serving process imports little).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Project": ("loopml.project", "Project"),
    "init": ("loopml.project", "init_project"),
    "open_project": ("loopml.project", "Project.open"),
    "start_run": ("loopml.tracking", "start_run"),
    "Charter": ("loopml.charter", "Charter"),
    "DataContract": ("loopml.data", "DataContract"),
    "ModelBundle": ("loopml.train", "ModelBundle"),
    "LoopmlError": ("loopml.errors", "LoopmlError"),
}

__all__ = [
    "Charter",
    "DataContract",
    "LoopmlError",
    "ModelBundle",
    "Project",
    "__version__",
    "init",
    "open_project",
    "start_run",
]

if TYPE_CHECKING:
    from loopml.charter import Charter
    from loopml.data import DataContract
    from loopml.errors import LoopmlError
    from loopml.project import Project
    from loopml.project import init_project as init
    from loopml.tracking import start_run
    from loopml.train import ModelBundle

    open_project = Project.open


def __getattr__(name: str) -> Any:
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'loopml' has no attribute {name!r}")
    module_name, attribute = target
    value: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        value = getattr(value, part)
    globals()[name] = value
    return value
