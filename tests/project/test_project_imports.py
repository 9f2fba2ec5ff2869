"""Opening a project stays light: ``import loopml.project`` (and ``Project`` with it) must not
import the serving stack, the statistics, tuning, plotting or fairness libraries; the packages
re-export their names lazily, and each command imports what it uses when it runs. Checked on the
modules imported, in a fresh interpreter, not on a clock."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

LAZY = (
    "scipy.stats",
    "fastapi",
    "uvicorn",
    "httpx",
    "optuna",
    "plotly",
    "fairlearn",
    "lightgbm",
    "xgboost",
    "pandera",
    "duckdb",
    "loopml.serve._app",
    "loopml.train._candidates",
    "loopml.data._leakage",
)

PROBE = """
import json, sys

{statement}

print(json.dumps(sorted(name for name in {lazy!r} if name in sys.modules)))
"""

LAZY_PACKAGES = ("loopml.project", "loopml.data", "loopml.registry", "loopml.train", "loopml.serve")


def loaded_after(statement: str) -> list[str]:
    completed = subprocess.run(
        [sys.executable, "-c", PROBE.format(statement=statement, lazy=LAZY)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result: list[str] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def test_importing_the_project_package_stays_light() -> None:
    assert loaded_after("import loopml.project") == []


def test_importing_project_stays_light() -> None:
    assert loaded_after("from loopml.project import Project") == []


def test_the_rollout_controller_stays_light() -> None:
    # `loopml deploy status|advance|rollback` read the store; scoring machinery loads only for a
    # blue-green smoke check, scipy.stats only for a bandit's allocation.
    assert loaded_after("import loopml.project._deploy") == []
    assert "sklearn" not in subprocess.run(
        [sys.executable, "-c", "import loopml.project._deploy, sys; print(sorted(sys.modules))"],
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout  # fmt: skip


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_every_exported_name_is_importable(package: str) -> None:
    module = importlib.import_module(package)
    for name in module.__all__:
        assert getattr(module, name) is not None, name
        assert name in dir(module), name
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        module.not_a_name  # noqa: B018
