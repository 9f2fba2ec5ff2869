"""Model references: NAME, NAME:VERSION and NAME@ALIAS."""

from __future__ import annotations

import pytest

from loopml.errors import InvalidInputError
from loopml.registry import ModelRef


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("churn", ModelRef("churn")),
        ("churn:3", ModelRef("churn", version=3)),
        ("churn@champion", ModelRef("churn", alias="champion")),
        ("flights-late.v2@my_alias", ModelRef("flights-late.v2", alias="my_alias")),
    ],
)
def test_parse_and_format_round_trip(text: str, expected: ModelRef) -> None:
    assert ModelRef.parse(text) == expected
    assert str(expected) == text


@pytest.mark.parametrize(
    "text", ["", "churn:", "churn@", "churn:x", "churn:1@a", "@champion", "a b"]
)
def test_malformed_reference_says_how_to_write_one(text: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        ModelRef.parse(text)
    assert info.value.hint is not None and "NAME@ALIAS" in info.value.hint
