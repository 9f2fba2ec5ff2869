"""What a run needs to be reproduced: code version and package versions."""

from __future__ import annotations

import platform
import subprocess
import threading
import time
from functools import lru_cache
from importlib import metadata
from pathlib import Path

TRACKED_PACKAGES = (
    "loopml",
    "numpy",
    "pandas",
    "pyarrow",
    "scikit-learn",
    "lightgbm",
    "scipy",
    "optuna",
)


GIT_CACHE_SECONDS = 10.0
"""How long a folder's git state is reused: starting many runs in a loop costs two ``git``
processes per folder per 10 s instead of per run."""

_git_cache: dict[Path, tuple[float, dict[str, str]]] = {}
_git_lock = threading.Lock()


def git_state(directory: Path) -> dict[str, str]:
    """``{"git_commit": sha, "git_dirty": "true"|"false"}`` for the repository holding
    ``directory``; empty when it is not in a git repository or git is missing.

    Read at most once per :data:`GIT_CACHE_SECONDS` per folder.
    """
    key = directory.resolve()
    now = time.monotonic()
    with _git_lock:
        cached = _git_cache.get(key)
    if cached is not None and now - cached[0] < GIT_CACHE_SECONDS:
        return dict(cached[1])
    state = _read_git_state(key)
    with _git_lock:
        _git_cache[key] = (now, state)
    return dict(state)


def _read_git_state(directory: Path) -> dict[str, str]:
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return {}
    return {"git_commit": sha, "git_dirty": "true" if status else "false"}


@lru_cache(maxsize=1)
def package_versions() -> dict[str, str]:
    """Versions of the packages a model's behaviour depends on, plus Python's."""
    versions = {"python": platform.python_version()}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def environment_tags(directory: Path) -> dict[str, str]:
    """Tags recorded on every tracked run: git state and ``package.<name>`` versions."""
    tags = git_state(directory)
    tags.update({f"package.{name}": version for name, version in package_versions().items()})
    return tags
