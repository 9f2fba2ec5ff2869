"""One entry point for any source (a file path or a database URL), and its lineage record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from loopml.data._files import check_file, file_sha256, read_table, resolve_format
from loopml.data._sql import mask_url, read_sql
from loopml.errors import InvalidInputError


def describe_source(
    source: str | Path,
    *,
    query: str | None = None,
    table: str | None = None,
    format: str | None = None,
) -> dict[str, Any]:
    """A JSON-able description of where data came from, for lineage.

    A file gives ``{"kind": "file", "path", "format", "size_bytes", "sha256"}``; a database URL
    (anything with ``://``) gives ``{"kind": "sql", "url", "dialect", "query", "table"}`` with the
    password masked.

    Raises:
        DataError: the file is missing, a directory or empty, or its format is unsupported.
    """
    if isinstance(source, str) and "://" in source:
        try:
            dialect = make_url(source).get_backend_name()
        except sa.exc.ArgumentError:
            dialect = source.partition("://")[0]
        return {
            "kind": "sql",
            "url": mask_url(source),
            "dialect": dialect,
            "query": query,
            "table": table,
        }
    path = check_file(source)
    return {
        "kind": "file",
        "path": str(path.resolve()),
        "format": resolve_format(path, format),
        "size_bytes": path.stat().st_size,
        "sha256": file_sha256(path),
    }


def read_source(
    source: str | Path,
    *,
    query: str | None = None,
    table: str | None = None,
    format: str | None = None,
) -> pd.DataFrame:
    """Read a file path or a database URL (anything with ``://``): :func:`read_table` or
    :func:`read_sql`. Raises what those raise."""
    if isinstance(source, str) and "://" in source:
        return read_sql(source, query=query, table=table)
    if query is not None or table is not None:
        raise InvalidInputError(
            f"query= and table= apply to database URLs, and {source} is a file path.",
            hint="Drop query=/table=, or pass a SQLAlchemy URL.",
        )
    return read_table(source, format=format)
