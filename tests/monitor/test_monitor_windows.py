"""Time windows: --since/--until and the most recent --window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from loopml.errors import InvalidInputError
from loopml.monitor._windows import parse_duration, time_window

NOW = datetime(2024, 5, 8, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15m", timedelta(minutes=15)),
        ("1h", timedelta(hours=1)),
        ("1d", timedelta(days=1)),
        ("2w", timedelta(weeks=2)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["0d", "1y", "d", "-1h", "1.5h"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(InvalidInputError, match="is not a window length"):
        parse_duration(text)


def test_the_most_recent_window_ends_now_or_at_until() -> None:
    assert time_window(window="1d", now=NOW) == (NOW - timedelta(days=1), NOW)
    until = datetime(2024, 5, 1)  # naive = UTC
    assert time_window(window="1w", until=until, now=NOW) == (
        datetime(2024, 4, 24, tzinfo=UTC),
        datetime(2024, 5, 1, tzinfo=UTC),
    )
    assert time_window() == (None, None)
    assert time_window(since=datetime(2024, 5, 1)) == (datetime(2024, 5, 1, tzinfo=UTC), None)


def test_inconsistent_windows_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="either --window or --since"):
        time_window(window="1d", since=NOW)
    with pytest.raises(InvalidInputError, match="at or after its end"):
        time_window(since=NOW, until=NOW - timedelta(hours=1))
