"""An environment with MLflow's ``mlflow.pyfunc`` for loading exported MLflow model directories.

Full ``mlflow`` cannot share loopml's environment, and a separate environment holding both MLflow
and all of loopml's dependencies takes over ten minutes to build. So this one
(``.bench-venvs/mlflow-pyfunc``) holds only ``mlflow-skinny`` (``mlflow.pyfunc`` without the
server) and the few dependencies of it that loopml's environment lacks or pins differently
(``importlib_metadata`` < 10); everything else, loopml's pinned dependencies included, is read from
the running environment's ``site-packages``, which a ``.pth`` file appends after the
environment's own. loopml itself comes from the working tree: callers put ``src`` on
``PYTHONPATH``. Built once (about a minute), rebuilt when the pin or the base environment moves.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / ".bench-venvs" / "mlflow-pyfunc"
MLFLOW_PIN = "mlflow-skinny==3.17.2"


def mlflow_python(timeout: float = 900) -> Path:
    """The environment's Python, built first when missing or stale.

    Raises:
        RuntimeError: the environment could not be built (pip's output is in the message).
    """
    base = sysconfig.get_paths()["purelib"]
    stamp_text = hashlib.sha256(f"{MLFLOW_PIN}\n{base}\n{sys.version}".encode()).hexdigest()
    python = FOLDER / "bin" / "python"
    stamp = FOLDER / ".installed"
    if python.is_file() and stamp.is_file() and stamp.read_text() == stamp_text:
        return python
    venv.EnvBuilder(with_pip=True, clear=True).create(FOLDER)
    own = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    overlay = f"import site; site.addsitedir({base!r})\n"
    (Path(own) / "zz_loopml_base_environment.pth").write_text(overlay)
    completed = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            MLFLOW_PIN,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"Building {FOLDER} failed:\n{(completed.stdout + completed.stderr)[-3000:]}"
        )
    stamp.write_text(stamp_text)
    return python


if __name__ == "__main__":
    print(mlflow_python())
