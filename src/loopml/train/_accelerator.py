"""Whether LightGBM and XGBoost may train on an NVIDIA GPU.

CPU is the default. A GPU is used only when one is visible (``nvidia-smi`` or ``/dev/nvidia0``),
``LOOPML_DEVICE`` is not ``cpu``, and the installed library actually trains on it (a tiny probe
fit succeeds; e.g. the ``xgboost-cpu`` wheel or a LightGBM built without CUDA never does). The
answer is computed once per process. Results on a GPU are not bit-identical to the CPU's.
"""

from __future__ import annotations

import functools
import os
import shutil
import warnings
from pathlib import Path
from typing import Any, Literal

import numpy as np

Device = Literal["cpu", "cuda"]
DEVICE_VARIABLE = "LOOPML_DEVICE"
"""Set to ``cpu`` to never use a GPU."""


def _gpu_visible() -> bool:
    if os.environ.get(DEVICE_VARIABLE, "").lower() == "cpu":
        return False
    return shutil.which("nvidia-smi") is not None or Path("/dev/nvidia0").exists()


def _probe(fit: Any) -> bool:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 3)), np.arange(64) % 2
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a silent fallback to CPU warns: count it as no
            fit(X, y)
    except Exception:
        return False
    return True


@functools.cache
def xgboost_device() -> Device:
    """``cuda`` when XGBoost can train on a visible GPU, else ``cpu``."""
    if not _gpu_visible():
        return "cpu"
    import xgboost

    if not xgboost.build_info().get("USE_CUDA"):
        return "cpu"
    model = xgboost.XGBClassifier(n_estimators=2, device="cuda", tree_method="hist")
    return "cuda" if _probe(model.fit) else "cpu"


@functools.cache
def lightgbm_device() -> Device:
    """``cuda`` when this LightGBM build can train on a visible GPU, else ``cpu``."""
    if not _gpu_visible():
        return "cpu"
    from lightgbm import LGBMClassifier

    model = LGBMClassifier(n_estimators=2, device_type="cuda", verbose=-1)
    return "cuda" if _probe(model.fit) else "cpu"
