"""The conformance suite every :class:`~loopml.store.ArtifactStore` backend passes unchanged.

Subclass it and provide two fixtures: ``artifact_store`` (a fresh, empty store) and
``corrupt_blob`` (a callable that changes the stored bytes of a digest behind the store's back).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from loopml.errors import ArtifactIntegrityError, NotFoundError
from loopml.store import ArtifactStore

CorruptBlob = Callable[[str], None]
MISSING = "0" * 64


class ArtifactStoreConformance:
    """Every :class:`ArtifactStore` contract, as tests."""

    def test_put_bytes_returns_sha256_and_roundtrips(self, artifact_store: ArtifactStore) -> None:
        digest = artifact_store.put_bytes(b"model bytes")
        assert digest == hashlib.sha256(b"model bytes").hexdigest()
        assert artifact_store.get_bytes(digest) == b"model bytes"
        assert artifact_store.exists(digest)

    def test_put_is_idempotent(self, artifact_store: ArtifactStore) -> None:
        first = artifact_store.put_bytes(b"same")
        assert artifact_store.put_bytes(b"same") == first
        assert artifact_store.list() == [first]

    def test_empty_blob(self, artifact_store: ArtifactStore) -> None:
        digest = artifact_store.put_bytes(b"")
        assert artifact_store.get_bytes(digest) == b""

    def test_put_file_streams_large_files(
        self, artifact_store: ArtifactStore, tmp_path: Path
    ) -> None:
        data = bytes(range(256)) * 20_000  # 5 MB: several read chunks
        path = tmp_path / "big.bin"
        path.write_bytes(data)
        digest = artifact_store.put_file(str(path))
        assert digest == hashlib.sha256(data).hexdigest()
        assert artifact_store.put_bytes(data) == digest
        assert artifact_store.get_bytes(digest) == data

    def test_local_path_holds_the_bytes(self, artifact_store: ArtifactStore) -> None:
        digest = artifact_store.put_bytes(b"parquet")
        assert Path(artifact_store.local_path(digest)).read_bytes() == b"parquet"

    def test_missing_blob(self, artifact_store: ArtifactStore) -> None:
        assert not artifact_store.exists(MISSING)
        with pytest.raises(NotFoundError, match=MISSING):
            artifact_store.get_bytes(MISSING)
        with pytest.raises(NotFoundError):
            artifact_store.local_path(MISSING)

    def test_delete_and_list(self, artifact_store: ArtifactStore) -> None:
        digests = sorted(artifact_store.put_bytes(bytes([i])) for i in range(3))
        assert artifact_store.list() == digests
        artifact_store.delete(digests[0])
        artifact_store.delete(digests[0])  # absent: no error
        assert artifact_store.list() == digests[1:]
        assert not artifact_store.exists(digests[0])

    def test_tampered_blob_is_refused(
        self, artifact_store: ArtifactStore, corrupt_blob: CorruptBlob
    ) -> None:
        digest = artifact_store.put_bytes(b"trusted model")
        corrupt_blob(digest)
        with pytest.raises(ArtifactIntegrityError, match=digest) as info:
            artifact_store.get_bytes(digest)
        assert "modified or corrupted" in info.value.message
        with pytest.raises(ArtifactIntegrityError):
            artifact_store.local_path(digest)
        assert artifact_store.local_path(digest, verify=False)

    def test_deleted_blob_can_be_stored_again(
        self, artifact_store: ArtifactStore, corrupt_blob: CorruptBlob
    ) -> None:
        digest = artifact_store.put_bytes(b"v1")
        corrupt_blob(digest)
        artifact_store.delete(digest)
        assert artifact_store.put_bytes(b"v1") == digest
        assert artifact_store.get_bytes(digest) == b"v1"

    def test_concurrent_writers_of_same_content(self, artifact_store: ArtifactStore) -> None:
        data = b"x" * 100_000
        with ThreadPoolExecutor(8) as pool:
            digests = set(pool.map(lambda _: artifact_store.put_bytes(data), range(32)))
        assert len(digests) == 1
        assert artifact_store.get_bytes(digests.pop()) == data
