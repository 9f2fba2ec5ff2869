"""Exports: joblib with a verified SHA-256, skops with an explicit trust list, and ONNX of the
whole pipeline verified against scikit-learn."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loopml.errors import AlreadyExistsError, ArtifactIntegrityError, DataError, InvalidInputError
from loopml.registry import export_model, load_joblib_export, load_skops_export
from loopml.registry._export import sha256
from loopml.train import ModelBundle, train_candidates

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))
from train_support import contract_for, signal_frame


def fitted(family: str, frame: pd.DataFrame, task: str = "binary") -> ModelBundle:
    target = "label" if task == "binary" else "y"
    result = train_candidates(
        frame,
        contract_for(frame, target),
        task=task,  # type: ignore[arg-type]
        families=[family],
        time_budget=30,
        cv_folds=2,
        seed=0,
        positive_class="yes" if task == "binary" else None,
    )
    (candidate,) = [c for c in result.candidates if c.family == family]
    assert candidate.bundle is not None
    return candidate.bundle


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    data = signal_frame(300)
    data.loc[::7, "x"] = np.nan
    data.loc[::11, "group"] = None
    return data


@pytest.fixture(scope="module")
def linear(frame: pd.DataFrame) -> ModelBundle:
    return fitted("linear", frame)


def test_joblib_export_roundtrips_and_refuses_a_tampered_file(
    linear: ModelBundle, frame: pd.DataFrame, tmp_path: Path
) -> None:
    result = export_model(linear, "joblib", tmp_path / "out", model_ref="churn:1")
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    digest = sha256((tmp_path / "out" / "model.joblib").read_bytes())
    assert manifest["files"] == {"model.joblib": digest} == result.files
    loaded = load_joblib_export(tmp_path / "out", expected_sha256=digest)
    pd.testing.assert_frame_equal(loaded.predict_frame(frame), linear.predict_frame(frame))
    with pytest.raises(ArtifactIntegrityError, match="expected digest"):
        load_joblib_export(tmp_path / "out", expected_sha256="0" * 64)
    blob = tmp_path / "out" / "model.joblib"
    blob.write_bytes(blob.read_bytes() + b"\0")
    with pytest.raises(ArtifactIntegrityError, match="not loaded"):
        load_joblib_export(tmp_path / "out")


def test_export_refuses_a_non_empty_folder_and_unknown_formats(
    linear: ModelBundle, tmp_path: Path
) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x").write_text("keep")
    with pytest.raises(AlreadyExistsError):
        export_model(linear, "joblib", tmp_path / "taken", model_ref="churn:1")
    with pytest.raises(InvalidInputError, match="Unknown export format 'pmml'"):
        export_model(linear, "pmml", tmp_path / "new", model_ref="churn:1")
    assert not (tmp_path / "new").exists()


def test_skops_export_loads_with_listed_types_and_predicts_the_same(
    frame: pd.DataFrame, tmp_path: Path
) -> None:
    for family in ("linear", "lightgbm"):
        bundle = fitted(family, frame)
        folder = tmp_path / family
        export_model(bundle, "skops", folder, model_ref="churn:1")
        loaded = load_skops_export(folder)
        assert (loaded.classes, loaded.task) == (bundle.classes, bundle.task)
        pd.testing.assert_frame_equal(loaded.predict_frame(frame), bundle.predict_frame(frame))


def test_skops_file_with_an_untrusted_type_is_refused(linear: ModelBundle, tmp_path: Path) -> None:
    import skops.io

    export_model(linear, "skops", tmp_path / "out", model_ref="churn:1")
    evil = skops.io.dumps({"payload": pd.Timedelta(1)})
    (tmp_path / "out" / "pipeline.skops").write_bytes(evil)
    manifest_path = tmp_path / "out" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["files"]["pipeline.skops"] = sha256(evil)
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(DataError, match="types loopml does not trust"):
        load_skops_export(tmp_path / "out")


@pytest.mark.slow
def test_onnx_export_of_whole_pipelines_matches_scikit_learn(
    frame: pd.DataFrame, tmp_path: Path
) -> None:
    import onnxruntime

    from loopml.registry._onnx import onnx_feeds

    for family in ("linear", "lightgbm"):
        bundle = fitted(family, frame)
        holdout = frame.iloc[200:]
        result = export_model(
            bundle, "onnx", tmp_path / family, model_ref="churn:1", sample=holdout
        )
        assert result.checks["rows_verified"] == len(holdout)
        assert result.checks["max_abs_difference"] <= 1e-4
        session = onnxruntime.InferenceSession(str(tmp_path / family / "model.onnx"))
        _labels, proba = session.run(None, onnx_feeds(bundle, holdout))
        np.testing.assert_allclose(proba, bundle.predict_proba(holdout), atol=1e-4)


def test_onnx_export_names_the_step_it_cannot_convert(tmp_path: Path) -> None:
    data = signal_frame(120)
    data["when"] = pd.date_range("2024-01-01", periods=len(data), freq="h")
    bundle = fitted("linear", data)
    with pytest.raises(InvalidInputError, match="DatetimeParts"):
        export_model(bundle, "onnx", tmp_path / "out", model_ref="churn:1", sample=data)
    assert not (tmp_path / "out").exists()
