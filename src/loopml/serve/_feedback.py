"""Ground truth for earlier predictions: the feedback sink the app is given, and body parsing."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any

from loopml.errors import InvalidInputError
from loopml.store._base import MetadataStore
from loopml.store._records import Feedback


class FeedbackSink(abc.ABC):
    """Where ground truth sent to ``POST /v1/feedback`` is stored.

    Contract: :meth:`add` stores all items or none; it is safe to call from several threads.
    """

    @abc.abstractmethod
    def add(self, items: Sequence[Feedback]) -> int:
        """Store the labels; returns how many request ids got one.

        Raises:
            NotFoundError: a request id has no logged prediction (the message names them;
                nothing is stored).
        """


class StoreFeedbackSink(FeedbackSink):
    """Stores feedback in ``store.predictions`` (joined with the prediction log by request id)."""

    def __init__(self, store: MetadataStore) -> None:
        self._store = store

    def add(self, items: Sequence[Feedback]) -> int:
        return self._store.predictions.add_feedback(items)


def parse_feedback(payload: Any) -> list[Feedback]:
    """Feedback items of a body: one ``{request_id, label}``, a list, or ``{"feedback": [...]}``.

    Raises:
        InvalidInputError: the body has another shape, an item lacks ``request_id`` or
            ``label``, or a request id is not a non-empty string.
    """
    if isinstance(payload, dict) and payload.keys() == {"feedback"}:
        payload = payload["feedback"]
    items = payload if isinstance(payload, list) else [payload]
    if not items:
        raise InvalidInputError(
            "The feedback request holds no items.",
            hint='Send {"request_id": "...", "label": ...} or a list of them.',
        )
    parsed: list[Feedback] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not {"request_id", "label"} <= item.keys():
            raise InvalidInputError(
                f"Feedback item {i} is not an object with 'request_id' and 'label'.",
                hint='Send {"request_id": "<id from a prediction>", "label": <true value>}.',
            )
        extra = sorted(set(item) - {"request_id", "label"})
        if extra:
            raise InvalidInputError(
                f"Feedback item {i} has unknown field(s): {', '.join(extra)}.",
                hint="Each item holds only 'request_id' and 'label'.",
            )
        request_id = item["request_id"]
        if not isinstance(request_id, str) or not request_id:
            raise InvalidInputError(
                f"Feedback item {i} has request_id {request_id!r}; it must be a non-empty string.",
                hint="Use the request_id a prediction response returned.",
            )
        parsed.append(Feedback(request_id=request_id, label=item["label"]))
    return parsed
