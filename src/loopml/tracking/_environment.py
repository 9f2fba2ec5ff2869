"""What a run needs to be reproduced: code version and package versions."""

from __future__ import annotations

import platform
import subprocess
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


def git_state(directory: Path) -> dict[str, str]:
    """``{"git_commit": sha, "git_dirty": "true"|"false"}`` for the repository holding
    ``directory``; empty when it is not in a git repository or git is missing."""
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
