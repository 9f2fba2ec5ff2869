"""Open a metadata store from a URL; backends are registered by URL scheme."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from loopml.errors import InvalidInputError
from loopml.store._base import MetadataStore
from loopml.store._sql import SqlMetadataStore

STORE_URL_ENV = "LOOPML_STORE_URL"
"""Environment variable naming the store URL used when none is passed."""

StoreFactory = Callable[[str], MetadataStore]

_BACKENDS: dict[str, StoreFactory] = {}
_ALIASES = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg"}


def register_store_backend(scheme: str, factory: StoreFactory) -> None:
    """Make :func:`open_store` open URLs whose scheme is ``scheme`` with ``factory(url)``."""
    _BACKENDS[scheme] = factory


def default_store_url(project_dir: Path | None = None) -> str:
    """``$LOOPML_STORE_URL`` if set, else ``sqlite:///<project_dir>/.loopml/loopml.db``."""
    from_env = os.environ.get(STORE_URL_ENV)
    if from_env:
        return from_env
    folder = (project_dir or Path.cwd()).resolve() / ".loopml"
    return f"sqlite:///{folder / 'loopml.db'}"


def open_store(url: str | None = None, *, project_dir: Path | None = None) -> MetadataStore:
    """Open (and migrate) the metadata store at ``url``.

    Without ``url``: ``$LOOPML_STORE_URL``, else the SQLite file ``.loopml/loopml.db`` under
    ``project_dir`` (default: the current directory), whose folder is created. ``postgresql://``
    and ``postgres://`` use the psycopg 3 driver.

    Raises:
        InvalidInputError: the URL's scheme has no registered backend.
        StoreError: the store cannot be reached or migrated.
    """
    url = url or default_store_url(project_dir)
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise InvalidInputError(
            f"{url!r} is not a store URL (it has no scheme://).",
            hint=f"Use one of the schemes {_schemes()}, e.g. sqlite:///path/to/loopml.db.",
        )
    scheme = _ALIASES.get(scheme.lower(), scheme.lower())
    factory = _BACKENDS.get(scheme)
    if factory is None:
        raise InvalidInputError(
            f"The store URL {_masked(url)!r} uses the unsupported scheme {scheme!r}.",
            hint=f"Supported schemes: {_schemes()}.",
        )
    return factory(f"{scheme}://{rest}")


def _masked(url: str) -> str:
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url.partition("://")[0] + "://…"


def _schemes() -> str:
    return ", ".join(sorted({*_BACKENDS, *_ALIASES}))


for _scheme in ("sqlite", "sqlite+pysqlite", "postgresql+psycopg"):
    register_store_backend(_scheme, SqlMetadataStore)
