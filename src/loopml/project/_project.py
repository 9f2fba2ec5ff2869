"""A loopml project: a folder with ``loopml.yaml``, ``contract.yaml`` and ``.loopml/``.

:class:`Project` is the composition root: it reads the charter, opens the metadata store and the
artifact store, and hands them to the lifecycle workflows. The CLI, the Python API and the web UI
all go through it.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from loopml.charter import CHARTER_FILE, Charter, load_charter
from loopml.data import DataContract
from loopml.errors import NotFoundError
from loopml.registry import Governance, GovernancePolicy, Registry
from loopml.store import ArtifactStore, MetadataStore, open_artifacts, open_store

if TYPE_CHECKING:
    from fastapi import FastAPI

    from loopml.project._evaluate import EvaluationOutcome
    from loopml.project._monitor import MonitorOutcome
    from loopml.project._predict import PredictOutcome
    from loopml.project._profile import ProfileOutcome
    from loopml.project._retrain import RetrainOutcome
    from loopml.project._train import TrainOutcome
    from loopml.project._validate import CleanOutcome, ValidateOutcome
    from loopml.store import DatasetVersion

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
        """A path written in the charter: as given if absolute, else relative to the project
        folder (paths given on the command line or to the API are relative to the current
        folder, see :func:`user_path`)."""
        candidate = Path(path).expanduser()
        return candidate if candidate.is_absolute() else self.root / candidate


def user_path(path: str | Path) -> Path:
    """A path a user passed on the command line or to the API, made absolute from the current
    folder."""
    return Path(path).expanduser().resolve()


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
        self.governance = Governance(store, GovernancePolicy.of(charter.registry))

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

    def charter_sha256(self) -> str:
        """SHA-256 of ``loopml.yaml`` as it is now (recorded on every training run)."""
        return hashlib.sha256(self.paths.charter.read_bytes()).hexdigest()

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

    # -- the lifecycle verbs (the CLI's commands, for notebooks and scripts) --------------------
    def ingest(self, data: str | Path | None = None) -> DatasetVersion:
        """Snapshot ``data`` (default: the charter's source); see :func:`loopml.project.ingest`."""
        from loopml.project._ingest import ingest

        return ingest(self, data)

    def profile(self, data: str | Path | None = None, **options: Any) -> ProfileOutcome:
        """Profile (EDA) report of data; see :func:`loopml.project._profile.profile`."""
        from loopml.project._profile import profile

        return profile(self, data, **options)

    def validate(self, data: str | Path | None = None, **options: Any) -> ValidateOutcome:
        """Check data against the contract; see :func:`loopml.project.validate_data`."""
        from loopml.project._validate import validate_data

        return validate_data(self, data, **options)

    def clean(self, data: str | Path | None = None, **options: Any) -> CleanOutcome:
        """What the charter's cleaning would change; see
        :func:`loopml.project._validate.preview_cleaning`."""
        from loopml.project._validate import preview_cleaning

        return preview_cleaning(self, data, **options)

    def train(self, **options: Any) -> TrainOutcome:
        """Train and register the best model; see :func:`loopml.project.train`."""
        from loopml.project._train import train

        return train(self, **options)

    def evaluate(self, ref: str | None = None, **options: Any) -> EvaluationOutcome:
        """Evaluate a model version; see :func:`loopml.project.evaluate`."""
        from loopml.project._evaluate import evaluate

        return evaluate(self, ref, **options)

    def predict(self, ref: str, input_path: str | Path, output_path: str | Path) -> PredictOutcome:
        """Batch-score a file; see :func:`loopml.project.predict`."""
        from loopml.project._predict import predict

        return predict(self, ref, input_path, output_path)

    def monitor(self, **options: Any) -> MonitorOutcome:
        """Drift report of a window; see :func:`loopml.project.monitor`."""
        from loopml.project._monitor import monitor

        return monitor(self, **options)

    def retrain(self, data: str | Path | None = None, **options: Any) -> RetrainOutcome:
        """Challenger vs champion on newer data; see :func:`loopml.project.retrain`."""
        from loopml.project._retrain import retrain

        return retrain(self, data, **options)

    def app(self, **options: Any) -> FastAPI:
        """The serving app of this project; see :func:`loopml.project.build_app`."""
        from loopml.project._serve import build_app

        return build_app(self, **options)

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
