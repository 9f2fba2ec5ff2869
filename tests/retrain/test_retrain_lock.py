"""One retraining at a time: the project's advisory lock file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from loopml.retrain._lock import RetrainLock


def test_only_one_holder_at_a_time_and_released_on_exit(tmp_path: Path) -> None:
    path = tmp_path / "state" / "retrain.lock"
    first, second = RetrainLock(path), RetrainLock(path)
    assert first.acquire() and first.held
    assert not second.acquire() and not second.held
    assert not first.acquire()  # not re-entrant
    # another process (plain flock, so the probe starts fast) is refused too
    probe = (
        "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR)\n"
        "try: fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
        "except BlockingIOError: sys.exit(3)"
    )
    other = subprocess.run([sys.executable, "-c", probe, str(path)], check=False)
    assert other.returncode == 3
    first.release()
    with second:
        assert second.acquire()
    assert not second.held  # the context manager released it
    assert subprocess.run([sys.executable, "-c", probe, str(path)], check=False).returncode == 0
