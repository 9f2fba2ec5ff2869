"""Batch scoring through the compiled model: equal to ``predict_frame`` chunk by chunk, for every
family and column kind, and back on the pipeline when the compiled model is not trusted."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from mixed_models import mixed_bundle, mixed_frame, wrapped_bundles
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from loopml.data import ColumnSpec, DataContract
from loopml.serve import score_file
from loopml.serve._batch_scorer import BatchScorer
from loopml.serve._compiled_predictor import TOLERANCE
from loopml.train import ModelBundle, get_family


def _rows(n: int, seed: int) -> pd.DataFrame:
    """Rows to score, with unseen and missing categories and missing numbers."""
    frame = mixed_frame(n, seed)[["age", "income", "color", "size", "member", "joined"]]
    frame.loc[frame.index % 7 == 3, "color"] = "purple"
    frame.loc[frame.index % 5 == 1, "color"] = None
    frame.loc[frame.index % 4 == 2, "income"] = np.nan
    return frame


def _assert_same(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(got.columns) == list(expected.columns)
    assert got.index.equals(expected.index)
    for column in expected.columns:
        if pd.api.types.is_float_dtype(expected[column]):
            np.testing.assert_allclose(got[column], expected[column], rtol=0, atol=TOLERANCE)
        else:
            assert got[column].tolist() == expected[column].tolist()


CASES = [
    ("lightgbm", "binary", None),
    ("lightgbm", "multiclass", None),
    ("lightgbm", "regression", None),
    ("lightgbm", "binary", {"categories": "codes"}),
    ("linear", "binary", None),
    ("linear", "regression", None),
    ("random_forest", "multiclass", None),
    ("knn", "regression", None),
]


@pytest.mark.parametrize(("family", "task", "params"), CASES)
def test_chunks_score_as_predict_frame(
    family: str, task: str, params: dict[str, Any] | None
) -> None:
    bundle = mixed_bundle(family, task, params)
    scorer = BatchScorer(bundle)
    for seed in (1, 2):
        rows = _rows(700, seed).set_axis(range(1000 * seed, 1000 * seed + 700))
        _assert_same(scorer.predict(rows), bundle.predict_frame(rows))
    assert scorer.compiled, scorer.note


def test_calibrated_and_blended_models_score_compiled() -> None:
    for bundle in wrapped_bundles():
        scorer = BatchScorer(bundle)
        rows = _rows(300, seed=3)
        _assert_same(scorer.predict(rows), bundle.predict_frame(rows))
        assert scorer.compiled, scorer.note


def test_a_category_column_mixing_numbers_and_text_labels_each_value() -> None:
    # Categories 1, 2, 3 label as "1", "2", "3"; True labels "True" (unseen) although pandas
    # counts True and 1 as one distinct value, so those columns are encoded value by value.
    rng = np.random.default_rng(0)
    plan = rng.integers(1, 4, 300)
    frame = pd.DataFrame({"plan": plan, "usage": rng.normal(size=300), "label": "no"})
    frame.loc[(frame.plan == 1) ^ (frame.usage > 1.5), "label"] = "yes"
    contract = DataContract(
        columns=[
            ColumnSpec(name="plan", dtype="category", categories=["1", "2", "3"]),
            ColumnSpec(name="usage", dtype="float"),
            ColumnSpec(name="label", dtype="category", role="target", categories=["no", "yes"]),
        ],
        target="label",
    )
    pipeline = get_family("lightgbm").build(contract, "binary", None, seed=0, n_jobs=1)
    pipeline.fit(frame[["plan", "usage"]], (frame.label == "yes").astype(int))
    bundle = ModelBundle(
        pipeline=pipeline,
        contract=contract,
        task="binary",
        classes=["no", "yes"],
        positive_class="yes",
    )
    rows = frame[["plan", "usage"]].astype({"plan": object})
    rows.loc[rows.index % 4 == 0, "plan"] = True  # first in the column, before any 1
    scorer = BatchScorer(bundle)
    _assert_same(scorer.predict(rows), bundle.predict_frame(rows))
    assert scorer.compiled


def test_a_step_the_compiler_does_not_know_scores_through_the_pipeline(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bundle = mixed_bundle("linear", "binary")
    steps = [("identity", FunctionTransformer(lambda x: x)), *bundle.pipeline.steps]
    pipeline = Pipeline(steps).fit(mixed_frame(100, 0)[bundle.feature_names], np.arange(100) % 2)
    odd = ModelBundle(**{**vars(bundle), "pipeline": pipeline})
    with caplog.at_level(logging.WARNING):
        scorer = BatchScorer(odd)
    assert not scorer.compiled and "not compiled" in scorer.note
    rows = _rows(50, seed=5)
    _assert_same(scorer.predict(rows), odd.predict_frame(rows))
    assert "goes through the model's pipeline" in caplog.text


def test_a_compiled_model_that_differs_is_dropped_on_the_first_chunk() -> None:
    bundle = mixed_bundle("lightgbm", "regression")
    scorer = BatchScorer(bundle)
    inner = scorer._scores
    assert inner is not None
    scorer._scores = lambda rows, n: inner(rows, n) + 1e-6  # a compiler bug, simulated
    rows = _rows(100, seed=6)
    _assert_same(scorer.predict(rows), bundle.predict_frame(rows))
    assert not scorer.compiled and "'prediction' differs" in scorer.note


def test_a_parquet_job_scores_lightgbm_through_the_tables_from_its_first_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("LOOPML_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("LOOPML_COMPILE_TREES", "1")
    bundle = mixed_bundle("lightgbm", "multiclass")
    rows = _rows(900, seed=7)
    rows.to_parquet(tmp_path / "in.parquet")
    options: dict[str, Any] = {"chunk_rows": 300, "on_invalid": "warn"}
    with caplog.at_level(logging.INFO, logger="loopml.serve._compiled_trees"):
        score_file(bundle, tmp_path / "in.parquet", tmp_path / "out.parquet", **options)
    assert "Scoring with the model's trees as bit-vector tables" in caplog.text
    assert not (tmp_path / "cache").exists()  # no machine code was built for this model
    expected = bundle.predict_frame(rows)
    output = pd.read_parquet(tmp_path / "out.parquet")
    _assert_same(output[expected.columns], expected)


def test_parquet_output_dictionary_encodes_text_only(tmp_path: Path) -> None:
    bundle = mixed_bundle("lightgbm", "binary")
    rows = _rows(400, seed=8)
    rows.to_parquet(tmp_path / "in.parquet")
    score_file(bundle, tmp_path / "in.parquet", tmp_path / "out.parquet", on_invalid="warn")
    metadata = pq.ParquetFile(tmp_path / "out.parquet").metadata
    group = metadata.row_group(0)
    encodings = {
        group.column(i).path_in_schema: group.column(i).encodings
        for i in range(metadata.num_columns)
    }
    assert "RLE_DICTIONARY" in encodings["prediction"]
    assert "RLE_DICTIONARY" in encodings["color"]
    assert "RLE_DICTIONARY" not in encodings["income"]
    assert "RLE_DICTIONARY" not in encodings["probability_yes"]
    # text read as dictionaries for speed is written back with the input's own type
    source, written = (
        pq.read_schema(tmp_path / "in.parquet"),
        pq.read_schema(tmp_path / "out.parquet"),
    )
    for name in ("color", "size"):
        assert written.field(name).type == source.field(name).type, name
    assert pd.read_parquet(tmp_path / "out.parquet")["color"].tolist() == rows["color"].tolist()
