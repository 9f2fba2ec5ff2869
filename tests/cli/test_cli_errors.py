"""Bad input through the CLI: one clear sentence, a non-zero exit, no traceback, nothing half
written."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from loopml.cli import app
from loopml.project import Project

runner = CliRunner()


def fail(*args: str, code: int) -> str:
    """Invoke ``loopml ARGS`` expecting exit ``code``; return everything it printed."""
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    assert result.output.strip(), "an error must say what is wrong"
    return result.output


@pytest.fixture
def small_csv(tmp_path: Path) -> Path:
    frame = pd.DataFrame(
        {
            "age": [25, 32, 47, 51, 62, 23, 36, 44, 58, 29] * 6,
            "plan": ["a", "b", "a", "c", "b", "a", "c", "b", "a", "c"] * 6,
            "churn": ["yes", "no"] * 30,
        }
    )
    path = tmp_path / "small.csv"
    frame.to_csv(path, index=False)
    return path


def test_missing_data_file(tmp_path: Path) -> None:
    out = fail(
        "init",
        "--data",
        str(tmp_path / "nope.csv"),
        "--target",
        "y",
        "--project",
        str(tmp_path),
        code=2,
    )
    assert "nope.csv" in out
    assert not (tmp_path / "loopml.yaml").exists()


def test_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    out = fail("init", "--data", str(empty), "--target", "y", "--project", str(tmp_path), code=2)
    assert "empty" in out.lower()
    assert not (tmp_path / "loopml.yaml").exists()


def test_target_column_that_does_not_exist(tmp_path: Path, small_csv: Path) -> None:
    out = fail(
        "init", "--data", str(small_csv), "--target", "chrun", "--project", str(tmp_path), code=2
    )
    assert "chrun" in out and "churn" in out  # names the typo and suggests the column
    assert not (tmp_path / "loopml.yaml").exists()
    assert not (tmp_path / "contract.yaml").exists()


def test_target_with_one_class(tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    pd.DataFrame({"x": range(30), "y": ["same"] * 30}).to_csv(path, index=False)
    out = fail("init", "--data", str(path), "--target", "y", "--project", str(tmp_path), code=2)
    assert "one" in out.lower()
    assert not (tmp_path / "loopml.yaml").exists()


def test_sensitive_column_that_does_not_exist(tmp_path: Path, small_csv: Path) -> None:
    out = fail(
        "init",
        "--data",
        str(small_csv),
        "--target",
        "churn",
        "--sensitive",
        "gender",
        "--project",
        str(tmp_path),
        code=2,
    )
    assert "gender" in out


def test_charter_with_a_typo_in_a_key(tmp_path: Path, small_csv: Path) -> None:
    result = runner.invoke(
        app, ["init", "--data", str(small_csv), "--target", "churn", "--project", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    charter = tmp_path / "loopml.yaml"
    charter.write_text(charter.read_text().replace("metric:", "metirc:"))
    out = fail("train", "--project", str(tmp_path), code=2)
    assert "metirc" in out and "did you mean 'metric'" in out and "line" in out


def test_command_outside_a_project(tmp_path: Path) -> None:
    out = fail("train", "--project", str(tmp_path), code=3)
    assert "loopml init" in out


@pytest.mark.slow
def test_unknown_model_references_and_nothing_written(tmp_path: Path, small_csv: Path) -> None:
    assert (
        runner.invoke(
            app, ["init", "--data", str(small_csv), "--target", "churn", "--project", str(tmp_path)]
        ).exit_code
        == 0
    )
    out = fail(
        "predict",
        "--model",
        "small@champion",
        "--input",
        str(small_csv),
        "--output",
        str(tmp_path / "out.csv"),
        "--project",
        str(tmp_path),
        code=3,
    )
    assert "small" in out
    out = fail("evaluate", "nosuchmodel:7", "--project", str(tmp_path), code=3)
    assert "nosuchmodel" in out
    out = fail("evaluate", "bad@@ref", "--project", str(tmp_path), code=2)
    assert "model reference" in out
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.slow
def test_predict_input_missing_a_feature_column_writes_nothing(
    tmp_path: Path, small_csv: Path
) -> None:
    assert (
        runner.invoke(
            app,
            [
                "init",
                "--data",
                str(small_csv),
                "--target",
                "churn",
                "--time-budget",
                "5",
                "--project",
                str(tmp_path),
            ],
        ).exit_code
        == 0
    )
    assert runner.invoke(app, ["train", "--project", str(tmp_path)]).exit_code == 0
    partial = tmp_path / "partial.csv"
    pd.read_csv(small_csv).drop(columns=["plan"]).to_csv(partial, index=False)
    output = tmp_path / "scored.csv"
    out = fail(
        "predict",
        "--model",
        "small:1",
        "--input",
        str(partial),
        "--output",
        str(output),
        "--project",
        str(tmp_path),
        code=2,
    )
    assert "plan" in out
    assert not output.exists()
    with Project.open(tmp_path) as project:
        runs = project.store.runs.list("small", kind="batch_predict")
        assert [r.status for r in runs] == ["failed"]


def test_malformed_csv_is_a_clear_error(tmp_path: Path) -> None:
    binary = tmp_path / "garbage.csv"
    binary.write_bytes(b"\x00\x01\x02PAR1\xff\xfe" * 50)
    out = fail("init", "--data", str(binary), "--target", "y", "--project", str(tmp_path), code=2)
    assert "garbage.csv" in out


def test_debug_flag_shows_the_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOOPML_DEBUG", "0")  # restored to its prior state afterwards
    result = runner.invoke(app, ["--debug", "train", "--project", str(tmp_path)])
    assert result.exit_code != 0
    assert result.exception is not None
