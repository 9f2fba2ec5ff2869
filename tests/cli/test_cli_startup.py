"""The CLI starts without the heavy libraries: `loopml --help` (and every command's help) must not
import pandas, scikit-learn, … nor loopml.project; each command imports what it needs when it
runs. Checked on the modules imported, in a fresh interpreter, not on a clock."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("pandas", "sklearn", "scipy", "sqlalchemy", "loopml.project", "loopml.registry")

PROBE = """
import json, sys

HEAVY = {heavy!r}


def loaded():
    return sorted(name for name in HEAVY if name in sys.modules)


import loopml.cli

after_import = loaded()

import typer
from typer.testing import CliRunner

from loopml.cli import app
from loopml.cli._reference import _walk

runner = CliRunner()
failed = []
for path, _command in _walk(typer.main.get_command(app), []):
    result = runner.invoke(app, [*path, "--help"])
    if result.exit_code != 0:
        failed.append(" ".join(path))

print(json.dumps({{"import": after_import, "help": loaded(), "failed": failed}}))
"""


def probe() -> dict[str, list[str]]:
    completed = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result: dict[str, list[str]] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def test_cli_imports_and_help_stay_light() -> None:
    found = probe()
    assert found["import"] == [], f"importing loopml.cli imported {found['import']}"
    assert found["failed"] == [], f"--help failed for {found['failed']}"
    assert found["help"] == [], f"rendering --help imported {found['help']}"
