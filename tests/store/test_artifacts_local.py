"""The local artifact store passes the shared conformance suite, plus its layout specifics."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from loopml.errors import InvalidInputError, NotFoundError
from loopml.store import LocalArtifactStore, open_artifacts
from loopml.testing.artifact_conformance import ArtifactStoreConformance, CorruptBlob


class TestLocalArtifactStore(ArtifactStoreConformance):
    @pytest.fixture
    def artifact_store(self, tmp_path: Path) -> LocalArtifactStore:
        return LocalArtifactStore(tmp_path / "artifacts")

    @pytest.fixture
    def corrupt_blob(self, artifact_store: LocalArtifactStore) -> CorruptBlob:
        def corrupt(digest: str) -> None:
            path = Path(artifact_store.local_path(digest, verify=False))
            path.write_bytes(path.read_bytes() + b"tampered")

        return corrupt


def test_blob_layout_is_two_level(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    digest = store.put_bytes(b"abc")
    assert (tmp_path / digest[:2] / digest[2:]).read_bytes() == b"abc"
    assert [p.name for p in tmp_path.rglob(".put-*")] == []  # no temp files left


def test_open_artifacts_uses_the_project_folder(tmp_path: Path) -> None:
    store = open_artifacts(tmp_path)
    digest = store.put_bytes(b"x")
    assert store.local_path(digest) == str(
        tmp_path / ".loopml" / "artifacts" / digest[:2] / digest[2:]
    )


@pytest.mark.parametrize("digest", ["../../etc/passwd", "ABC", "0" * 63, "g" * 64])
def test_malformed_digest_is_invalid_input(tmp_path: Path, digest: str) -> None:
    with pytest.raises(InvalidInputError, match="digest"):
        LocalArtifactStore(tmp_path).get_bytes(digest)


def test_put_file_of_missing_path(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"nothing\.bin"):
        LocalArtifactStore(tmp_path / "a").put_file(str(tmp_path / "nothing.bin"))


def test_list_ignores_foreign_files(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    digest = store.put_bytes(b"x")
    (tmp_path / "README").write_text("not a blob")
    (tmp_path / digest[:2] / ".put-123").write_bytes(b"partial")
    assert store.list() == [digest]
    assert LocalArtifactStore(tmp_path / "never-created").list() == []
    assert hashlib.sha256(b"x").hexdigest() == digest


def test_put_rewrites_a_blob_whose_size_is_wrong(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    digest = store.put_bytes(b"model")
    Path(store.local_path(digest, verify=False)).write_bytes(b"mod")
    assert store.put_bytes(b"model") == digest
    assert store.get_bytes(digest) == b"model"
    source = tmp_path / "model.bin"
    source.write_bytes(b"model")
    Path(store.local_path(digest, verify=False)).write_bytes(b"")
    assert store.put_file(str(source)) == digest
    assert store.get_bytes(digest) == b"model"
