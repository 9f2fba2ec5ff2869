"""The run search language: tokens, precedence, quoting and ordering keys (no database needed)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from loopml.errors import InvalidInputError
from loopml.store._run_filter import (
    BoolOp,
    Comparison,
    OrderKey,
    parse_order_by,
    parse_run_filter,
    tokenize,
)


def test_and_binds_tighter_than_or_and_parentheses_group() -> None:
    tree = parse_run_filter("metrics.a > 1 or metrics.b < 2 and params.c = 'x'")
    assert tree == BoolOp(
        "or",
        (
            Comparison("metric", "a", ">", 1.0),
            BoolOp(
                "and", (Comparison("metric", "b", "<", 2.0), Comparison("param", "c", "=", "x"))
            ),
        ),
    )
    grouped = parse_run_filter("(metrics.a > 1 OR metrics.b < 2) AND kind = 'train'")
    assert isinstance(grouped, BoolOp) and grouped.op == "and"
    assert grouped.items[1] == Comparison("attribute", "kind", "=", "train")


def test_keys_values_and_operators() -> None:
    assert parse_run_filter("tags.package.scikit-learn = '1.9'") == Comparison(
        "tag", "package.scikit-learn", "=", "1.9"
    )
    assert parse_run_filter('tags.`my key` like "a%"') == Comparison("tag", "my key", "like", "a%")
    assert parse_run_filter("metrics.loss <= -1.5e-3") == Comparison(
        "metric", "loss", "<=", -0.0015
    )
    assert parse_run_filter("metrics.x == 1") == Comparison("metric", "x", "=", 1.0)
    assert parse_run_filter("metrics.x <> 1") == Comparison("metric", "x", "!=", 1.0)
    assert parse_run_filter("status in ('finished', 'failed')") == Comparison(
        "attribute", "status", "in", ("finished", "failed")
    )
    assert parse_run_filter("params.q = 'it''s'") == Comparison("param", "q", "=", "it's")
    assert parse_run_filter("start_time >= '2024-05-01T12:00:00'") == Comparison(
        "attribute", "start_time", ">=", datetime(2024, 5, 1, 12, tzinfo=UTC)
    )
    assert parse_run_filter("  ") is None and parse_run_filter(None) is None


def test_tokens_carry_one_based_positions() -> None:
    tokens = tokenize("metrics.a>1")
    assert [(t.kind, t.text, t.position) for t in tokens] == [
        ("field", "metrics.a", 1),
        ("op", ">", 10),
        ("number", "1", 11),
        ("end", "", 12),
    ]


def test_errors_point_at_the_offending_character() -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_run_filter("metrics.a > 1 and ; drop table runs")
    assert "position 19" in caught.value.message
    assert caught.value.details == {"position": 19, "expected": "a field, value or operator"}
    assert caught.value.hint is not None and "^" in caught.value.hint


def test_order_keys_default_to_best_or_newest_first() -> None:
    assert parse_order_by(["metrics.roc_auc", "metrics.loss asc", "start_time", "name"]) == [
        OrderKey("metric", "roc_auc", True),
        OrderKey("metric", "loss", False),
        OrderKey("attribute", "start_time", True),
        OrderKey("attribute", "name", False),
    ]
    assert parse_order_by(None) == []
    with pytest.raises(InvalidInputError, match="position 1"):
        parse_order_by(["tags.team"])
