"""The local, content-addressed artifact store."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

from loopml.errors import ArtifactIntegrityError, InvalidInputError, NotFoundError
from loopml.store._base import ArtifactStore

_DIGEST = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1 << 20


class LocalArtifactStore(ArtifactStore):
    """Blobs in a folder: the blob with digest ``abcdef…`` lives at ``root/ab/cdef…``.

    Writes go to a temporary file in the same folder and are moved in place with
    :func:`os.replace`, so a reader never sees a partial blob; storing existing content again is a
    no-op (unless the stored file has the wrong size, which it repairs). Every read re-hashes the
    file.
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def put_bytes(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        if not self._intact(digest, len(data)):
            self._write(digest, lambda out: out.write(data))
        return digest

    def put_file(self, path: str | os.PathLike[str]) -> str:
        """Store the file at ``path``, hashing while copying (never read whole).

        Raises:
            NotFoundError: ``path`` is not a readable file.
        """
        source = Path(path)
        if not source.is_file():
            raise NotFoundError(
                f"Cannot store {source} as an artifact: no such file.",
                hint="Check the path.",
            )
        self.root.mkdir(parents=True, exist_ok=True)
        hasher = hashlib.sha256()
        with (
            source.open("rb") as src,
            tempfile.NamedTemporaryFile(dir=self.root, prefix=".put-", delete=False) as tmp,
        ):
            try:
                while chunk := src.read(_CHUNK):
                    hasher.update(chunk)
                    tmp.write(chunk)
            except BaseException:
                tmp.close()
                os.unlink(tmp.name)
                raise
        digest = hasher.hexdigest()
        if self._intact(digest, os.path.getsize(tmp.name)):
            os.unlink(tmp.name)
        else:
            self._blob(digest).parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp.name, self._blob(digest))
        return digest

    def get_bytes(self, digest: str) -> bytes:
        data = self._existing(digest).read_bytes()
        if hashlib.sha256(data).hexdigest() != digest:
            raise self._corrupt(digest)
        return data

    def local_path(self, digest: str, *, verify: bool = True) -> str:
        path = self._existing(digest)
        if verify and _hash_file(path) != digest:
            raise self._corrupt(digest)
        return str(path)

    def exists(self, digest: str) -> bool:
        return self._blob(digest).is_file()

    def delete(self, digest: str) -> None:
        self._blob(digest).unlink(missing_ok=True)

    def list(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(
            path.parent.name + path.name
            for path in self.root.glob("??/*")
            if _DIGEST.fullmatch(path.parent.name + path.name)
        )

    def _intact(self, digest: str, size: int) -> bool:
        """Whether the blob exists with the right size (a cheap check; reads verify the hash)."""
        path = self._blob(digest)
        return path.is_file() and path.stat().st_size == size

    def _blob(self, digest: str) -> Path:
        if not _DIGEST.fullmatch(digest):
            raise InvalidInputError(
                f"{digest!r} is not an artifact digest (64 lowercase hex characters).",
                hint="Pass the SHA-256 digest returned when the artifact was stored.",
            )
        return self.root / digest[:2] / digest[2:]

    def _existing(self, digest: str) -> Path:
        path = self._blob(digest)
        if not path.is_file():
            raise NotFoundError(
                f"No artifact with digest {digest} is stored in {self.root}.",
                hint="Check the digest, or re-create the artifact (e.g. re-run the step that made "
                "it).",
            )
        return path

    def _write(self, digest: str, write: Callable[[IO[bytes]], object]) -> None:
        target = self._blob(digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".put-", delete=False) as tmp:
            try:
                write(tmp)
            except BaseException:
                tmp.close()
                os.unlink(tmp.name)
                raise
        os.replace(tmp.name, target)

    def _corrupt(self, digest: str) -> ArtifactIntegrityError:
        return ArtifactIntegrityError(
            f"Artifact {digest} in {self.root} no longer matches its SHA-256 digest: the file was "
            "modified or corrupted.",
            hint="Restore the file from a backup, or delete it and re-create the artifact.",
        )

    def __repr__(self) -> str:
        return f"LocalArtifactStore({str(self.root)!r})"


def _hash_file(path: Path) -> str:
    hasher = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest()


def open_artifacts(project_dir: Path | str) -> LocalArtifactStore:
    """The artifact store of the project in ``project_dir``: ``<project_dir>/.loopml/artifacts``."""
    return LocalArtifactStore(Path(project_dir) / ".loopml" / "artifacts")
