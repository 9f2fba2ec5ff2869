"""Running a peer tool (MLflow, Evidently, FLAML, ydata-profiling, …) beside loopml in one run.

Peers often pin versions that conflict with loopml's (pandas, numpy), so each peer gets its own
virtual environment under ``.bench-venvs/<name>``, created once from
``benchmarks/peers/<name>.txt`` (pinned requirements). A benchmark script measures loopml
in-process, then calls :func:`run_peer` to run the peer's half of the benchmark in that
environment on the same input files; the peer script prints one JSON object on stdout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VENVS = ROOT / ".bench-venvs"
PEERS = Path(__file__).resolve().parent / "peers"


def peer_python(name: str) -> Path:
    """The Python of the peer's environment, created from ``peers/<name>.txt`` if needed."""
    requirements = PEERS / f"{name}.txt"
    if not requirements.is_file():
        raise FileNotFoundError(f"No pinned requirements for peer {name!r} at {requirements}.")
    folder = VENVS / name
    python = folder / "bin" / "python"
    stamp = folder / ".installed"
    if not stamp.is_file() or stamp.read_text() != requirements.read_text():
        print(f"[bench] creating the {name} environment (once) …", file=sys.stderr, flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(folder)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
                str(requirements),
            ],
            check=True,
        )
        stamp.write_text(requirements.read_text())
    return python


def run_peer(name: str, script: str | Path, *args: str, timeout: float = 3600) -> dict[str, Any]:
    """Run ``script`` with the peer's Python; returns the JSON object it printed last."""
    python = peer_python(name)
    completed = subprocess.run(
        [str(python), str(script), *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    lines = [line for line in completed.stdout.splitlines() if line.strip().startswith("{")]
    if not lines:
        raise RuntimeError(f"The {name} peer printed no JSON result:\n{completed.stderr[-2000:]}")
    return dict(json.loads(lines[-1]))


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
