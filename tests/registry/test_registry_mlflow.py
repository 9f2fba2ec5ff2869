"""``loopml models export --format mlflow``: an MLflow model directory (``python_function``
flavor with loopml's loader, a signature from the data contract, pinned environments) that
``mlflow.pyfunc.load_model`` loads and that predicts exactly what loopml predicts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sklearn
from ruamel.yaml import YAML

from loopml import __version__
from loopml.errors import ArtifactIntegrityError
from loopml.registry import export_model
from loopml.registry._mlflow_flavor import _load_pyfunc
from loopml.train import ModelBundle, train_candidates

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from mlflow_env import ROOT, mlflow_python
from train_support import contract_for, signal_frame


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    data = signal_frame(300)
    data.loc[::7, "x"] = np.nan
    data.loc[::11, "group"] = None
    return data


@pytest.fixture(scope="module")
def bundle(frame: pd.DataFrame) -> ModelBundle:
    result = train_candidates(
        frame,
        contract_for(frame, "label"),
        task="binary",
        families=["linear"],
        time_budget=30,
        cv_folds=2,
        seed=0,
        positive_class="yes",
    )
    (candidate,) = [c for c in result.candidates if c.family == "linear"]
    assert candidate.bundle is not None
    return candidate.bundle


@pytest.fixture(scope="module")
def exported(bundle: ModelBundle, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("mlflow") / "model"
    export_model(bundle, "mlflow", folder, model_ref="churn:3")
    return folder


def _yaml(path: Path) -> dict[str, object]:
    data = YAML(typ="safe", pure=True).load(path.read_text())
    assert isinstance(data, dict)
    return data


def test_the_directory_holds_mlmodel_signature_and_pinned_environments(
    bundle: ModelBundle, exported: Path
) -> None:
    assert {p.name for p in exported.iterdir()} == {
        "MLmodel",
        "model.joblib",
        "requirements.txt",
        "python_env.yaml",
        "conda.yaml",
        "manifest.json",
    }
    mlmodel = _yaml(exported / "MLmodel")
    flavor = mlmodel["flavors"]["python_function"]  # type: ignore[index]
    assert flavor["loader_module"] == "loopml.registry._mlflow_flavor"
    assert flavor["data"] == "model.joblib"
    assert flavor["env"] == {"conda": "conda.yaml", "virtualenv": "python_env.yaml"}
    assert flavor["python_version"] == ".".join(map(str, sys.version_info[:3]))
    assert mlmodel["metadata"]["loopml_model"] == "churn:3"  # type: ignore[index]
    signature = mlmodel["signature"]
    inputs = json.loads(signature["inputs"])  # type: ignore[index]
    assert [c["name"] for c in inputs] == bundle.feature_names
    types = {c["name"]: c["type"] for c in inputs}
    for spec in bundle.contract.feature_columns:
        expected = {"float": "double", "category": "string", "string": "string"}.get(spec.dtype)
        assert expected is None or types[spec.name] == expected, spec
    outputs = json.loads(signature["outputs"])  # type: ignore[index]
    assert [(c["name"], c["type"]) for c in outputs] == [
        ("prediction", "string"),
        *((f"probability_{label}", "double") for label in bundle.classes),
    ]
    requirements = (exported / "requirements.txt").read_text().splitlines()
    assert f"loopml=={__version__}" in requirements
    assert f"scikit-learn=={sklearn.__version__}" in requirements
    assert f"pandas=={pd.__version__}" in requirements
    assert _yaml(exported / "python_env.yaml")["dependencies"] == ["-r requirements.txt"]
    conda = _yaml(exported / "conda.yaml")
    assert {"pip": requirements} in conda["dependencies"]  # type: ignore[operator]
    manifest = json.loads((exported / "manifest.json").read_text())
    assert manifest["format"] == "mlflow" and "model.joblib" in manifest["files"]


def test_the_loader_predicts_like_loopml_and_refuses_a_tampered_model(
    bundle: ModelBundle, frame: pd.DataFrame, exported: Path, tmp_path: Path
) -> None:
    model = _load_pyfunc(str(exported / "model.joblib"))
    pd.testing.assert_frame_equal(model.predict(frame), bundle.predict_frame(frame))
    tampered = tmp_path / "tampered"
    export_model(bundle, "mlflow", tampered, model_ref="churn:3")
    blob = tampered / "model.joblib"
    blob.write_bytes(blob.read_bytes() + b"\0")
    with pytest.raises(ArtifactIntegrityError, match="not loaded"):
        _load_pyfunc(str(blob))


_LOAD_WITH_MLFLOW = textwrap.dedent(
    """
    import sys
    import mlflow.pyfunc
    import pandas as pd

    model = mlflow.pyfunc.load_model(sys.argv[1])
    predictions = model.predict(pd.read_parquet(sys.argv[2]))
    predictions.to_parquet(sys.argv[3])
    print(mlflow.__version__)
    """
)


@pytest.mark.slow
def test_mlflow_pyfunc_load_model_predicts_the_same_values(
    bundle: ModelBundle, frame: pd.DataFrame, exported: Path, tmp_path: Path
) -> None:
    try:
        python = mlflow_python()
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as error:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"The MLflow test environment could not be built: {error}")
        pytest.skip(f"The MLflow test environment could not be built (no PyPI?): {error}")
    inputs = frame[bundle.feature_names]
    inputs.to_parquet(tmp_path / "inputs.parquet")
    completed = subprocess.run(
        [
            str(python),
            "-c",
            _LOAD_WITH_MLFLOW,
            str(exported),
            str(tmp_path / "inputs.parquet"),
            str(tmp_path / "out.parquet"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src"), "PYTHONWARNINGS": "ignore"},
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.stdout.strip().startswith("3.17")
    theirs = pd.read_parquet(tmp_path / "out.parquet")
    ours = bundle.predict_frame(inputs)
    assert list(theirs.columns) == list(ours.columns)
    assert (theirs["prediction"].to_numpy() == ours["prediction"].to_numpy()).all()
    probabilities = [c for c in ours.columns if c.startswith("probability_")]
    np.testing.assert_allclose(
        theirs[probabilities].to_numpy(), ours[probabilities].to_numpy(), rtol=0, atol=1e-9
    )
