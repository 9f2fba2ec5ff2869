"""Prediction records packed column by column, for handing batches to another process cheaply.

A served request's prediction log is already column-wise (one list per input and output). Packed
as such, a batch of many single-record requests pickles as a few long lists of numbers and ids;
as :class:`~loopml.store._records.PredictionRecord` objects it pickles as one dict per input per
record and one ``datetime`` per record, about ten times slower. The pickling runs in the serving
process and holds its GIL, so it shows in the requests' latency; unpacking runs in the writer
process.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from loopml.store._records import PredictionRecord

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@dataclass
class _Segment:
    """Consecutive records of one model version and deployment with the same input and output
    names: per group of records (a request), its size, time and latency; per record, its id;
    per input and output name, one list of values."""

    model_name: str
    model_version: int
    deployment: str
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    sizes: list[int] = field(default_factory=list)
    times: list[int | datetime] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    request_ids: list[str] = field(default_factory=list)
    inputs: list[list[Any]] = field(default_factory=list)
    outputs: list[list[Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.inputs = [[] for _ in self.input_names]
        self.outputs = [[] for _ in self.output_names]

    @property
    def key(self) -> tuple[Any, ...]:
        return (
            self.model_name,
            self.model_version,
            self.deployment,
            self.input_names,
            self.output_names,
        )

    def records(self) -> list[PredictionRecord]:
        n = len(self.request_ids)
        inputs = [dict(zip(self.input_names, row, strict=True)) for row in _rows(self.inputs, n)]
        outputs = [dict(zip(self.output_names, row, strict=True)) for row in _rows(self.outputs, n)]
        records: list[PredictionRecord] = []
        first = 0
        for size, at, latency in zip(self.sizes, self.times, self.latencies, strict=True):
            time = at if isinstance(at, datetime) else _EPOCH + at * _MICROSECOND
            records.extend(
                PredictionRecord(
                    request_id=self.request_ids[i],
                    time=time,
                    model_name=self.model_name,
                    model_version=self.model_version,
                    inputs=inputs[i],
                    outputs=outputs[i],
                    latency_ms=latency,
                    deployment=self.deployment,
                )
                for i in range(first, first + size)
            )
            first += size
        return records


class PackedPredictions:
    """A batch of prediction records, column by column; picklable (plain lists and tuples).

    Groups are added with :meth:`add` (column lists, as a served request logs them) or
    :meth:`add_records`; :meth:`records` gives back equal :class:`PredictionRecord` objects, in
    the order they were added.
    """

    def __init__(self) -> None:
        self._segments: list[_Segment] = []
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def add(
        self,
        *,
        model_name: str,
        model_version: int,
        deployment: str,
        time: datetime,
        latency_ms: float,
        request_ids: Sequence[str],
        inputs: Mapping[str, Sequence[Any]],
        outputs: Mapping[str, Sequence[Any]],
    ) -> None:
        """Add one group of records sharing a time, latency, model and deployment; ``inputs``
        and ``outputs`` hold one value per request id under each name.

        Raises:
            ValueError: a column's length differs from the number of request ids.
        """
        n = len(request_ids)
        if any(len(values) != n for values in (*inputs.values(), *outputs.values())):
            raise ValueError(f"Every input and output column must hold {n} values.")
        segment = self._segment(model_name, model_version, deployment, inputs, outputs)
        segment.sizes.append(n)
        segment.times.append(_microseconds(time))
        segment.latencies.append(latency_ms)
        segment.request_ids.extend(request_ids)
        for column, values in zip(segment.inputs, inputs.values(), strict=True):
            column.extend(values)
        for column, values in zip(segment.outputs, outputs.values(), strict=True):
            column.extend(values)
        self._size += n

    def add_records(self, records: Sequence[PredictionRecord]) -> None:
        """Add records one by one (each its own group)."""
        for r in records:
            self.add(
                model_name=r.model_name,
                model_version=r.model_version,
                deployment=r.deployment,
                time=r.time,
                latency_ms=r.latency_ms,
                request_ids=(r.request_id,),
                inputs={name: (value,) for name, value in r.inputs.items()},
                outputs={name: (value,) for name, value in r.outputs.items()},
            )

    def records(self) -> list[PredictionRecord]:
        """The records, as added."""
        return [record for segment in self._segments for record in segment.records()]

    def _segment(
        self,
        model_name: str,
        model_version: int,
        deployment: str,
        inputs: Mapping[str, Any],
        outputs: Mapping[str, Any],
    ) -> _Segment:
        """The last segment when the group continues it, else a new one."""
        key = (model_name, model_version, deployment, tuple(inputs), tuple(outputs))
        if self._segments and self._segments[-1].key == key:
            return self._segments[-1]
        segment = _Segment(*key)
        self._segments.append(segment)
        return segment


def _rows(columns: list[list[Any]], n: int) -> list[tuple[Any, ...]]:
    """The ``n`` rows of ``columns`` (``n`` empty rows when there is no column)."""
    return list(zip(*columns, strict=True)) if columns else [()] * n


def _microseconds(time: datetime) -> int | datetime:
    """A UTC time as whole microseconds since 1970 (an int pickles far faster than a datetime);
    any other time as it is, so it comes back unchanged."""
    if time.tzinfo is UTC:
        return (time - _EPOCH) // _MICROSECOND
    return time
