"""Helpers shared by the serving tests."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from loopml.serve import PredictionSink
from loopml.store import PredictionRecord


class RecordingSink(PredictionSink):
    """An in-memory sink remembering what it was given and whether it was closed."""

    def __init__(self) -> None:
        self.records: list[PredictionRecord] = []
        self.closed = False
        self._lock = threading.Lock()

    def submit(self, records: Sequence[PredictionRecord]) -> None:
        with self._lock:
            self.records.extend(records)

    def close(self) -> None:
        self.closed = True


def records_of(frame: pd.DataFrame, features: list[str]) -> list[dict[str, Any]]:
    """Rows as JSON records (NaN becomes null), the way a client would send them."""
    return json.loads(frame[features].to_json(orient="records"))


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait for work a server does after answering (logging in a background task)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)
