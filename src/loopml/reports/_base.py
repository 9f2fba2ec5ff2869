"""The behaviour every report shares: JSON export and inline display in Jupyter."""

from __future__ import annotations

import html
import json
import math
import os
from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from loopml.reports._render import write_report


def to_jsonable(value: Any) -> Any:
    """``value`` made of JSON types only: numpy scalars/arrays unwrapped, tuples as lists,
    dates as ISO strings, and NaN/infinity as ``None`` (JSON has no such numbers)."""
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return to_jsonable(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return value


class Report(ABC):
    """Mixin for reports: subclasses provide :meth:`to_dict` and :meth:`to_html`.

    Gives :meth:`to_json`, :meth:`write_html` and ``_repr_html_`` (the report shows inline in
    Jupyter, inside an ``<iframe srcdoc>`` so its styles and scripts stay isolated).
    """

    iframe_height: int = 900

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-able data (no raw rows)."""

    @abstractmethod
    def to_html(self) -> str:
        """The report as one self-contained HTML page."""

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text (NaN written as ``null``)."""
        return json.dumps(to_jsonable(self.to_dict()), indent=indent, allow_nan=False)

    def write_html(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_html` to ``path`` atomically and return it."""
        return write_report(path, self.to_html())

    def _repr_html_(self) -> str:
        page = html.escape(self.to_html(), quote=True)
        return (
            f'<iframe srcdoc="{page}" style="width:100%;height:{self.iframe_height}px;'
            'border:1px solid #ddd;border-radius:6px" sandbox="allow-scripts"></iframe>'
        )
