"""contract.yaml: written with comments and atomically, read back with line-numbered errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from loopml.data import DataContract, infer_contract
from loopml.errors import DataError, NotFoundError


@pytest.fixture
def contract(churn: pd.DataFrame) -> DataContract:
    return infer_contract(churn, target="churn", sensitive=["female"])


def _line_of(text: str, needle: str, occurrence: int = 1) -> int:
    lines = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    return lines[occurrence - 1]


def test_round_trip_and_layout(tmp_path: Path, contract: DataContract) -> None:
    path = tmp_path / "sub" / "contract.yaml"
    contract.to_yaml(path)
    assert DataContract.from_yaml(path) == contract
    text = path.read_text()
    assert text.startswith("# loopml data contract")
    assert "integer | float | boolean | category | string | datetime" in text
    assert "categories: [Month-to-month, One year, Two year]" in text
    assert text.count("  - name: ") == len(contract.columns)
    assert [p.name for p in path.parent.iterdir()] == ["contract.yaml"]  # no temp file left


def test_a_person_can_edit_it(tmp_path: Path, contract: DataContract) -> None:
    path = tmp_path / "contract.yaml"
    contract.to_yaml(path)
    text = path.read_text().replace("    max: 72.0\n", "    max: 100\n")
    text = text.replace("categories: [No, Yes]", "categories: [1, 'No', Yes]")
    path.write_text("# my note\n" + text)
    edited = DataContract.from_yaml(path)
    assert edited.column("tenure").max == 100
    assert edited.column("churn").categories == ["1", "No", "Yes"]


def test_errors_name_line_column_and_key(tmp_path: Path, contract: DataContract) -> None:
    path = tmp_path / "contract.yaml"
    contract.to_yaml(path)
    text = path.read_text()
    text = text.replace("  - name: tenure\n    dtype: integer", "  - name: tenure\n    dtype: int")
    text = text.replace(
        "  - name: contract\n    dtype: category\n", "  - name: contract\n    dtpye: x\n"
    )
    path.write_text(text)
    with pytest.raises(DataError) as info:
        DataContract.from_yaml(path)
    message = info.value.message
    tenure_line = _line_of(text, "name: tenure") + 1
    assert f"contract.yaml line {tenure_line}: column 'tenure': dtype must be one of" in message
    typo_line = _line_of(text, "dtpye")
    assert f"line {typo_line}: column 'contract': unknown key 'dtpye' (did you mean 'dtype'?)" in (
        message
    )
    assert "column 'contract': missing key 'dtype'" in message
    assert len(info.value.details["problems"]) == 3


def test_consistency_errors_are_located(tmp_path: Path) -> None:
    path = tmp_path / "contract.yaml"
    path.write_text(
        "target: chrun\n"
        "columns:\n"
        "  - name: churn\n    dtype: category\n"
        "  - name: churn\n    dtype: integer\n"
        "  - name: age\n    dtype: float\n    max_null_share: 2\n"
    )
    with pytest.raises(DataError) as info:
        DataContract.from_yaml(path)
    message = info.value.message
    assert "line 5: column 'churn' is repeated" in message
    assert "line 1: target 'chrun' is not one of the columns (did you mean 'churn'?)" in message
    assert "line 9: column 'age': max_null_share" in message


def test_missing_file_and_broken_yaml(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="does not exist"):
        DataContract.from_yaml(tmp_path / "nope.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("columns:\n  - name: a\n    dtype: [integer\n")
    with pytest.raises(DataError, match=r"broken\.yaml line 4: not valid YAML"):
        DataContract.from_yaml(broken)
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n")
    with pytest.raises(DataError, match="must be a mapping"):
        DataContract.from_yaml(listed)


def test_failed_write_keeps_the_old_file(
    tmp_path: Path, contract: DataContract, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "contract.yaml"
    contract.to_yaml(path)
    before = path.read_text()

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("loopml.data._contract_yaml.os.fsync", disk_full)
    edited = contract.model_copy(update={"target": None})
    with pytest.raises(OSError, match="No space left"):
        edited.to_yaml(path)
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["contract.yaml"]
