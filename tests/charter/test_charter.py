"""The charter: validation with line-numbered errors, and a commented file that round-trips."""

from __future__ import annotations

from pathlib import Path

import pytest

from loopml.charter import (
    Charter,
    ColumnsSpec,
    DataSource,
    load_charter,
    parse_charter,
    render_charter,
    write_charter,
)
from loopml.errors import CharterError, NotFoundError


def make_charter(**overrides: object) -> Charter:
    fields: dict[str, object] = {
        "name": "churn",
        "task": "binary",
        "target": "churn",
        "positive_class": "Yes",
        "data": DataSource(path="customers.csv"),
        "columns": ColumnsSpec(sensitive=["female"]),
    }
    fields.update(overrides)
    return Charter.model_validate(fields)


def test_rendered_charter_parses_back_equal(tmp_path: Path) -> None:
    charter = make_charter(problem="Which customers # will leave?", kpi="retention")
    path = tmp_path / "loopml.yaml"
    write_charter(charter, path)
    assert load_charter(path) == charter
    text = path.read_text()
    assert "# loopml charter" in text
    assert "binary | multiclass | regression" in text


def test_typo_in_key_names_line_and_suggests_the_right_key() -> None:
    text = render_charter(make_charter()).replace("target:", "tragte:")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if row.startswith("tragte:"))
    with pytest.raises(CharterError) as info:
        parse_charter(text)
    assert f"line {line}" in info.value.message
    assert "unknown key 'tragte'" in info.value.message
    assert "did you mean 'target'" in info.value.message


def test_typo_in_nested_key_is_found_in_its_section() -> None:
    text = render_charter(make_charter()).replace("  test_size:", "  test_sise:")
    with pytest.raises(CharterError) as info:
        parse_charter(text)
    assert "split.test_sise" in info.value.message
    assert "did you mean 'test_size'" in info.value.message


def test_invalid_task_value_is_reported_with_its_line() -> None:
    text = render_charter(make_charter()).replace("task: binary", "task: binnary")
    with pytest.raises(CharterError) as info:
        parse_charter(text)
    assert "'task'" in info.value.message
    assert "line 9" in info.value.message


def test_malformed_yaml_is_a_charter_error_with_a_line() -> None:
    with pytest.raises(CharterError) as info:
        parse_charter("name: churn\ntask: [binary\n")
    assert "malformed" in info.value.message
    assert "line" in info.value.message


def test_supervised_task_needs_a_target() -> None:
    with pytest.raises(CharterError, match="needs a 'target'"):
        parse_charter("name: x\ntask: regression\ndata: {path: a.csv}\n")


def test_data_source_needs_exactly_one_of_path_or_url() -> None:
    with pytest.raises(CharterError, match="exactly one"):
        parse_charter("name: x\ntask: binary\ntarget: y\ndata: {}\n")
    with pytest.raises(CharterError, match="query"):
        parse_charter("name: x\ntask: binary\ntarget: y\ndata: {url: 'sqlite:///a.db'}\n")


def test_model_name_must_be_reference_safe() -> None:
    with pytest.raises(CharterError, match="'name'"):
        parse_charter("name: 'churn@v2'\ntask: binary\ntarget: y\ndata: {path: a.csv}\n")


def test_missing_charter_file_is_not_found_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError) as info:
        load_charter(tmp_path / "loopml.yaml")
    assert info.value.hint is not None and "loopml init" in info.value.hint


def test_split_strategy_defaults_follow_task_and_time_column() -> None:
    assert make_charter().split_strategy == "stratified"
    regression = make_charter(task="regression", positive_class=None, target="price")
    assert regression.split_strategy == "random"
    timed = make_charter(columns=ColumnsSpec(time="when"))
    assert timed.split_strategy == "time"
    assert timed.time_column == "when"
