"""LightGBM trees compiled to machine code, built once per model in a background process.

A fitted LightGBM model is turned into C by Treelite's code generator (``tl2cgen``: one ``if``
per split, thresholds quantized to integer comparisons) and built with the machine's C compiler
into a shared library. Scoring through it is several times faster than ``Booster.predict`` for
large inputs, with the same results (:mod:`loopml.serve._compiled_trees` checks that on every
load).

Building takes seconds, so it never blocks a job: :func:`start_build` starts a detached
process running this file and returns at once; the library appears at
:func:`library_path` when it is done (written under a temporary name and renamed into place, so
a reader never sees half a file) and serves every later job and process. Libraries live in a
cache folder keyed by the model's text, the code generator's version and the machine, so a
changed model or a different machine never reads a stale one: ``$LOOPML_CACHE_DIR`` or
``~/.cache/loopml``, under ``compiled-trees``.

Without a C compiler (``gcc`` or ``clang`` on ``PATH``) nothing is built and scoring
stays with LightGBM.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import platform
import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

CACHE_ENV = "LOOPML_CACHE_DIR"
"""Overrides the cache folder (``~/.cache/loopml`` by default)."""

STALE_LOCK_SECONDS = 600.0
"""A build lock older than this belongs to a build that died; a new build may start."""

OPTIMIZATION = "-O1"
"""Measured on the batch benchmark's 300-tree model: -O1 builds in half the time of -O2/-O3 and
scores as fast (generated code is mostly branches, which higher levels do not improve)."""

__all__ = [
    "CACHE_ENV",
    "build_library",
    "cache_folder",
    "compiler",
    "library_path",
    "model_text",
    "start_build",
]


_RUN_SELF = "import runpy, sys; runpy.run_path(sys.argv.pop(1), run_name='__main__')"
"""Runs this file as a script: the build process imports only it and the code generator, not
the serving package."""


def cache_folder() -> Path:
    """Where compiled libraries are kept (created on demand)."""
    root = os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "loopml"
    return Path(root) / "compiled-trees"


def compiler() -> str | None:
    """The first C compiler on ``PATH`` that ``tl2cgen`` drives (``gcc`` or ``clang``), or None."""
    return next((name for name in ("gcc", "clang") if shutil.which(name)), None)


def model_text(booster: Any) -> str:
    """The model's text, limited to the iterations ``Booster.predict`` uses by default."""
    best = int(getattr(booster, "best_iteration", 0) or 0)
    return str(booster.model_to_string(num_iteration=best if best > 0 else None))


def library_path(text: str) -> Path:
    """The cached library of the model with text ``text`` (it may not exist yet)."""
    versions = "/".join(_version(name) for name in ("treelite", "tl2cgen", "lightgbm"))
    machine = f"{platform.machine()}/{platform.system()}/{OPTIMIZATION}"
    digest = hashlib.sha256(f"{versions}\n{machine}\n{text}".encode()).hexdigest()[:32]
    return cache_folder() / f"{digest}.so"


def start_build(text: str) -> bool:
    """Start building the library of ``text`` in a detached process, unless it exists, a build
    is already running, there is no C compiler, or the cache cannot be written (logged).
    Returns whether a build was started.

    The process outlives the caller; its output goes to ``<library>.log`` beside the library.
    """
    target = library_path(text)
    if target.exists() or compiler() is None:
        return False
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        lock = target.with_suffix(".lock")
        if not _take_lock(lock):
            return False
        model_file = target.with_suffix(".txt")
        model_file.write_text(text)
        with open(target.with_suffix(".log"), "w") as log:
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    _RUN_SELF,
                    __file__,
                    str(model_file),
                    str(target),
                    str(lock),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
    except OSError as exc:  # an unwritable cache, a process limit: LightGBM keeps scoring
        logger.warning("The model's trees cannot be compiled in %s: %s", target.parent, exc)
        return False
    return True


def build_library(model_file: Path, target: Path, threads: int | None = None) -> Path:
    """Build ``target`` from the LightGBM model text in ``model_file`` (in this process).

    Raises:
        RuntimeError: no C compiler, or the model cannot be converted or built.
    """
    import tl2cgen
    import treelite

    toolchain = compiler()
    if toolchain is None:
        raise RuntimeError("no C compiler (gcc or clang) on PATH")
    threads = threads or os.cpu_count() or 1
    model = treelite.frontend.load_lightgbm_model(str(model_file))
    partial = target.with_name(f".{target.stem}.{os.getpid()}.so")
    try:
        tl2cgen.export_lib(
            model,
            toolchain=toolchain,
            libpath=str(partial),
            params={"quantize": 1, "parallel_comp": threads},
            nthread=threads,
            options=[OPTIMIZATION],
        )
        os.replace(partial, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return target


def _take_lock(lock: Path) -> bool:
    """Create ``lock`` exclusively; a lock left by a build that died long ago is taken over."""
    with contextlib.suppress(FileNotFoundError):
        if time.time() - lock.stat().st_mtime > STALE_LOCK_SECONDS:
            lock.unlink()
    try:
        os.close(os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


def main(argv: list[str]) -> int:
    """``python _tree_compiler.py MODEL_TXT TARGET_SO LOCK``: build at low priority."""
    model_file, target, lock = (Path(a) for a in argv)
    with contextlib.suppress(OSError):
        os.nice(10)  # a job may be scoring on these cores right now
    try:
        build_library(model_file, target)
        return 0
    except Exception as exc:  # reported in the log; scoring simply stays with LightGBM
        print(f"loopml: building {target.name} failed: {exc}", file=sys.stderr)
        return 1
    finally:
        for leftover in (model_file, lock):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
