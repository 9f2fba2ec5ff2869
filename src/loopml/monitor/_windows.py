"""Monitoring windows by time: ``--since``/``--until`` or the most recent ``--window 1d``."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from loopml.errors import InvalidInputError

_DURATION = re.compile(r"^([0-9]+)([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """``15m``, ``1h``, ``1d``, ``2w`` as a timedelta.

    Raises:
        InvalidInputError: not a positive number followed by m, h, d or w.
    """
    match = _DURATION.match(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise InvalidInputError(
            f"{text!r} is not a window length.",
            hint="Use a number and a unit: 15m, 1h, 1d or 1w.",
        )
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def time_window(
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    window: str | None = None,
    now: datetime | None = None,
) -> tuple[datetime | None, datetime | None]:
    """The ``[since, until)`` bounds asked for, in UTC (naive times are taken as UTC).

    ``window`` is the most recent span ending at ``until`` (default: now); it cannot be
    combined with ``since``.

    Raises:
        InvalidInputError: ``window`` with ``since``, a bad ``window``, or ``since >= until``.
    """
    start = _utc(since) if since is not None else None
    end = _utc(until) if until is not None else None
    if window is not None:
        if start is not None:
            raise InvalidInputError(
                "Give either --window or --since, not both.",
                hint="--window 1d means the day before --until (default: now).",
            )
        end = end or _utc(now or datetime.now(UTC))
        start = end - parse_duration(window)
    if start is not None and end is not None and start >= end:
        raise InvalidInputError(
            f"The window starts ({start.isoformat()}) at or after its end ({end.isoformat()}).",
            hint="--since must be before --until.",
        )
    return start, end
