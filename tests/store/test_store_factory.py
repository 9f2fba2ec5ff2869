"""open_store: URL schemes, the default location and the environment override."""

from __future__ import annotations

from pathlib import Path

import pytest

from loopml.errors import InvalidInputError, StoreError
from loopml.store import SqlMetadataStore, default_store_url, open_store
from loopml.store._factory import STORE_URL_ENV


def test_default_store_lives_in_the_project_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(STORE_URL_ENV, raising=False)
    with open_store(project_dir=tmp_path / "proj") as store:
        assert isinstance(store, SqlMetadataStore)
        store.runs.create("p", "r", "train")
    assert (tmp_path / "proj" / ".loopml" / "loopml.db").is_file()


def test_environment_overrides_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    monkeypatch.setenv(STORE_URL_ENV, url)
    assert default_store_url(tmp_path / "proj") == url
    with open_store(project_dir=tmp_path / "proj") as store:
        assert store.url == url
    assert not (tmp_path / "proj").exists()


def test_explicit_url_beats_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(STORE_URL_ENV, "bogus://nowhere")
    url = f"sqlite:///{tmp_path / 'x.db'}"
    with open_store(url) as store:
        assert store.url == url


@pytest.mark.parametrize("url", ["mysql://ann:pw@host/db", "bogus://x", "no-scheme"])
def test_unsupported_url_lists_supported_schemes(url: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        open_store(url)
    assert info.value.hint and "postgresql" in info.value.hint and "sqlite" in info.value.hint
    assert ":pw@" not in str(info.value)


def test_unopenable_sqlite_file_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(StoreError, match="a-file"):
        open_store(f"sqlite:///{tmp_path / 'a-file' / 'x.db'}")
