"""A loopml project: a folder with ``loopml.yaml``, ``contract.yaml`` and ``.loopml/``.

:class:`Project` is the composition root: it reads the charter, opens the metadata store and the
artifact store, and hands them to the lifecycle workflows. The CLI, the Python API and the web UI
all go through it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from loopml.charter import CHARTER_FILE, Charter, load_charter
from loopml.data import DataContract
from loopml.errors import NotFoundError
from loopml.registry import Registry
from loopml.store import ArtifactStore, MetadataStore, open_artifacts, open_store

STATE_DIR = ".loopml"
CONTRACT_FILE = "contract.yaml"


@dataclass(frozen=True)
class ProjectPaths:
    """Where a project keeps its files."""

    root: Path

    @property
    def charter(self) -> Path:
        return self.root / CHARTER_FILE

    @property
    def contract(self) -> Path:
        return self.root / CONTRACT_FILE

    @property
    def state(self) -> Path:
        return self.root / STATE_DIR

    @property
    def reports(self) -> Path:
        return self.state / "reports"

    @property
    def quarantine(self) -> Path:
        return self.state / "quarantine"

    def resolve(self, path: str | Path) -> Path:
        """``path`` as given if absolute, else relative to the project folder."""
        candidate = Path(path).expanduser()
        return candidate if candidate.is_absolute() else self.root / candidate


def store_url(charter: Charter, paths: ProjectPaths) -> str:
    """The metadata store URL: ``LOOPML_STORE_URL``, else the charter's ``store``, else the
    project's SQLite file."""
    url = os.environ.get("LOOPML_STORE_URL") or charter.store
    return url or f"sqlite:///{paths.state / 'loopml.db'}"


class Project:
    """An opened project. Close it (or use it as a context manager) to release the store."""

    def __init__(
        self,
        paths: ProjectPaths,
        charter: Charter,
        store: MetadataStore,
        artifacts: ArtifactStore,
    ) -> None:
        self.paths = paths
        self.charter = charter
        self.store = store
        self.artifacts = artifacts
        self.registry = Registry(store, artifacts)

    @classmethod
    def open(cls, root: str | Path | None = None) -> Project:
        """Open the project in ``root`` (default: the current folder).

        Raises:
            NotFoundError: there is no ``loopml.yaml`` in ``root``.
            CharterError: the charter does not validate.
            StoreError: the metadata store cannot be opened.
        """
        paths = ProjectPaths(Path(root or Path.cwd()).resolve())
        charter = load_charter(paths.charter)
        paths.state.mkdir(parents=True, exist_ok=True)
        store = open_store(store_url(charter, paths))
        return cls(paths, charter, store, open_artifacts(paths.root))

    @property
    def name(self) -> str:
        return self.charter.name

    def contract(self) -> DataContract:
        """The project's data contract (``contract.yaml``).

        Raises:
            NotFoundError: no contract yet (it is written by ``init`` and ``ingest``).
        """
        if not self.paths.contract.is_file():
            raise NotFoundError(
                f"The project has no data contract at {self.paths.contract}.",
                hint="Run `loopml ingest` to infer one from the data.",
            )
        return DataContract.from_yaml(self.paths.contract)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
