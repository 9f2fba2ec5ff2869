"""Exporting a registered model to a folder: joblib (+ SHA-256 manifest), skops, ONNX, MLflow.

Every export folder holds ``manifest.json``: the format, the model reference, and the SHA-256 of
each file written. The loaders here verify those digests before deserializing anything; joblib
(pickle) additionally accepts the digest the registry recorded, which a tampered manifest cannot
forge.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from loopml import __version__
from loopml._constants import EXPORT_FORMATS
from loopml.data._contract import DataContract
from loopml.errors import AlreadyExistsError, ArtifactIntegrityError, DataError, InvalidInputError
from loopml.registry._registry import dump_bundle, load_bundle
from loopml.train import ModelBundle

MANIFEST = "manifest.json"

SKOPS_TRUSTED_TYPES: tuple[str, ...] = (
    "collections.OrderedDict",
    "lightgbm.basic.Booster",
    "lightgbm.sklearn.LGBMClassifier",
    "lightgbm.sklearn.LGBMRegressor",
    "loopml.data._clean.CleaningTransformer",
    "loopml.features._derived.DerivedFeatures",
    "loopml.features._selection.FeatureSelector",
    "loopml.features._preprocess.output_feature_name",
    "loopml.features._transformers.CategoricalCodes",
    "loopml.features._transformers.DatetimeParts",
    "loopml.features._transformers.as_documents",
    "loopml.features._transformers.as_labels",
    "loopml.features._transformers.as_numbers",
    "loopml.train._self_training.SelfTrainedClassifier",
    "numpy.dtype",
)
"""Types a loopml pipeline holds beyond those skops trusts by default; a skops file naming any
other type is refused rather than loaded."""


@dataclass
class ExportResult:
    """What an export wrote: the folder, the files with their SHA-256, and verification checks
    (for ONNX: the maximum absolute difference from scikit-learn on the holdout)."""

    path: Path
    format: str
    model_ref: str
    files: dict[str, str]
    checks: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "format": self.format,
            "model": self.model_ref,
            "files": self.files,
            "checks": self.checks,
        }


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def export_model(
    bundle: ModelBundle,
    format: str,
    folder: Path,
    *,
    model_ref: str,
    sample: pd.DataFrame | None = None,
) -> ExportResult:
    """Write ``bundle`` to ``folder`` (created; it must be empty or absent) in ``format``.

    ``mlflow`` writes an MLflow model directory (see :mod:`loopml.registry._mlflow`) that
    ``mlflow.pyfunc.load_model`` loads when loopml is importable.

    ``sample`` (the holdout) is what an ONNX export is verified on; without it the ONNX graph is
    verified on no rows and the check says so.

    Raises:
        InvalidInputError: unknown format, or a pipeline step ONNX cannot express (named).
        AlreadyExistsError: ``folder`` exists and is not empty.
        DataError: the ONNX model disagrees with scikit-learn beyond tolerance.
    """
    if format not in EXPORT_FORMATS:
        raise InvalidInputError(
            f"Unknown export format {format!r}.",
            hint=f"Choose one of: {', '.join(EXPORT_FORMATS)}.",
        )
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise AlreadyExistsError(
            f"The export folder {folder} already exists and is not empty.",
            hint="Pass a new folder, or remove the old export first.",
        )
    files: dict[str, bytes]
    checks: dict[str, Any] = {}
    if format == "joblib":
        files = {"model.joblib": dump_bundle(bundle)}
    elif format == "skops":
        files = _skops_files(bundle)
    elif format == "mlflow":
        from loopml.registry._mlflow import mlflow_files

        files = mlflow_files(bundle, model_ref)
    else:
        from loopml.registry._onnx import to_onnx

        onnx_bytes, checks = to_onnx(bundle, sample)
        files = {"model.onnx": onnx_bytes, "bundle.json": _bundle_json(bundle)}
    folder.mkdir(parents=True, exist_ok=True)
    digests = {name: sha256(data) for name, data in files.items()}
    for name, data in files.items():
        (folder / name).write_bytes(data)
    manifest = {
        "format": format,
        "model": model_ref,
        "loopml": __version__,
        "files": digests,
        "checks": checks,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    return ExportResult(folder, format, model_ref, digests, checks)


def _bundle_json(bundle: ModelBundle) -> bytes:
    """Everything of a bundle but its pipeline, as JSON."""
    data = {
        "contract": bundle.contract.to_dict(),
        "task": bundle.task,
        "classes": [_plain(c) for c in bundle.classes],
        "positive_class": _plain(bundle.positive_class),
        "threshold": bundle.threshold,
        "family": bundle.family,
        "metadata": bundle.metadata,
    }
    return json.dumps(data, indent=2, default=str).encode()


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value JSON keeps (labels must compare equal after a load)."""
    return value.item() if hasattr(value, "item") else value


def _skops_files(bundle: ModelBundle) -> dict[str, bytes]:
    import skops.io

    return {"pipeline.skops": skops.io.dumps(bundle.pipeline), "bundle.json": _bundle_json(bundle)}


def _verified(folder: Path, name: str, expected: str | None = None) -> bytes:
    """The bytes of ``folder/name`` after checking them against the manifest (and ``expected``).

    Raises:
        ArtifactIntegrityError: a digest does not match, or the manifest does not list the file.
    """
    manifest = json.loads((folder / MANIFEST).read_text())
    listed = manifest.get("files", {}).get(name)
    data = (folder / name).read_bytes()
    actual = sha256(data)
    for digest, source in ((listed, "its manifest"), (expected, "the expected digest")):
        if source == "the expected digest" and digest is None:
            continue
        if digest != actual:
            raise ArtifactIntegrityError(
                f"{folder / name} does not match the SHA-256 in {source}: the file was modified "
                "or corrupted, so it is not loaded.",
                hint="Export the model again from the registry.",
            )
    return data


def load_joblib_export(folder: Path | str, *, expected_sha256: str | None = None) -> ModelBundle:
    """Load a joblib export, verifying its SHA-256 before unpickling.

    Pass ``expected_sha256`` (the model's artifact digest from the registry, e.g.
    ``loopml models show churn:3 --json``) to also guard against a rewritten manifest.

    Raises:
        ArtifactIntegrityError: the file does not match its digest.
        DataError: the file holds no loopml model.
    """
    return load_bundle(_verified(Path(folder), "model.joblib", expected_sha256))


def load_skops_export(folder: Path | str) -> ModelBundle:
    """Load a skops export without executing pickled code: only skops' default types and
    :data:`SKOPS_TRUSTED_TYPES` may appear in the file.

    Raises:
        ArtifactIntegrityError: a file does not match its digest.
        DataError: the file names a type outside the trusted list (listed in the message).
    """
    import skops.io

    root = Path(folder)
    data = _verified(root, "pipeline.skops")
    untrusted = skops.io.get_untrusted_types(data=data)
    unknown = sorted(set(untrusted) - set(SKOPS_TRUSTED_TYPES))
    if unknown:
        raise DataError(
            f"The skops file holds types loopml does not trust: {', '.join(unknown)}.",
            hint="Only load skops files exported by loopml; inspect the file with skops first.",
        )
    pipeline = skops.io.loads(data, trusted=sorted(untrusted))
    meta = json.loads(_verified(root, "bundle.json"))
    return ModelBundle(
        pipeline=pipeline,
        contract=DataContract.from_dict(meta["contract"]),
        task=meta["task"],
        classes=meta["classes"],
        positive_class=meta["positive_class"],
        threshold=meta["threshold"],
        family=meta["family"],
        metadata=meta["metadata"],
    )
