"""The model registry: register fitted bundles, resolve references, move aliases, load models."""

from __future__ import annotations

import io
from typing import Any

import joblib

from loopml.errors import DataError, NotFoundError
from loopml.registry._ref import CHAMPION, ModelRef
from loopml.store import ArtifactStore, MetadataStore, ModelVersion
from loopml.train import ModelBundle


def dump_bundle(bundle: ModelBundle) -> bytes:
    """Serialize a bundle (joblib, compressed)."""
    buffer = io.BytesIO()
    joblib.dump(bundle, buffer, compress=3)
    return buffer.getvalue()


def load_bundle(data: bytes) -> ModelBundle:
    """Deserialize bytes made by :func:`dump_bundle`.

    Only call this on bytes read through the artifact store, which verified their SHA-256 first:
    joblib/pickle must never load untrusted bytes.

    Raises:
        DataError: the bytes are not a loopml model bundle.
    """
    obj = joblib.load(io.BytesIO(data))
    if not isinstance(obj, ModelBundle):
        raise DataError(f"The artifact holds a {type(obj).__name__}, not a loopml model.")
    return obj


class Registry:
    """Model versions of every project sharing a store, with aliases and audited changes."""

    def __init__(self, store: MetadataStore, artifacts: ArtifactStore) -> None:
        self._store = store
        self._artifacts = artifacts

    def register(
        self,
        name: str,
        bundle: ModelBundle,
        *,
        run_id: str | None = None,
        dataset_id: str | None = None,
        metrics: dict[str, float] | None = None,
        gates: list[dict[str, Any]] | None = None,
        description: str = "",
        actor: str = "loopml",
    ) -> ModelVersion:
        """Store ``bundle`` as the next version of ``name``."""
        digest = self._artifacts.put_bytes(dump_bundle(bundle))
        return self._store.models.create_version(
            name,
            artifact=digest,
            task=bundle.task,
            run_id=run_id,
            dataset_id=dataset_id,
            metrics=metrics,
            signature=bundle.contract.to_dict(),
            gates=gates,
            description=description,
            actor=actor,
        )

    def get(self, ref: str | ModelRef) -> ModelVersion:
        """The version ``ref`` points at. A bare name means its champion, else its newest version.

        Raises:
            InvalidInputError: ``ref`` is malformed.
            NotFoundError: the model, version or alias does not exist (the message lists what
                does).
        """
        parsed = ModelRef.parse(ref) if isinstance(ref, str) else ref
        models = self._store.models
        if parsed.version is not None:
            return models.get_version(parsed.name, parsed.version)
        if parsed.alias is not None:
            return models.get_version(parsed.name, models.get_alias(parsed.name, parsed.alias))
        versions = models.list_versions(parsed.name)
        if not versions:
            known = models.list_names()
            raise NotFoundError(
                f"No model named {parsed.name!r} is registered.",
                hint=f"Registered models: {', '.join(known)}." if known else "Run `loopml train`.",
            )
        aliases = models.aliases(parsed.name)
        if CHAMPION in aliases:
            return models.get_version(parsed.name, aliases[CHAMPION])
        return versions[-1]

    def load(self, ref: str | ModelRef) -> tuple[ModelVersion, ModelBundle]:
        """Resolve ``ref`` and load its bundle, verifying the artifact's SHA-256 first.

        Raises:
            NotFoundError: as :meth:`get`, or the artifact is missing.
            ArtifactIntegrityError: the artifact was modified after registration.
        """
        version = self.get(ref)
        return version, load_bundle(self._artifacts.get_bytes(version.artifact))

    def set_alias(
        self, name: str, alias: str, version: int, *, actor: str = "loopml", reason: str = ""
    ) -> int | None:
        """Point ``name@alias`` at ``version`` (audited); returns the previous version or None."""
        return self._store.models.set_alias(name, alias, version, actor=actor, reason=reason)

    def aliases(self, name: str) -> dict[str, int]:
        return self._store.models.aliases(name)

    def list(self, name: str | None = None) -> list[ModelVersion]:
        return self._store.models.list_versions(name)
