"""Clustering and anomaly projects through the Python API: what is tracked, gated, registered."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_wine

from loopml.charter import load_charter, write_charter
from loopml.errors import InvalidInputError
from loopml.project import Project, init_project
from loopml.project._train_unsupervised import flagged_share_gate


def _blobs(rows: int = 240) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(rng.normal(size=(rows, 3)), columns=["x", "y", "z"])


@pytest.mark.slow
def test_unlabelled_anomaly_project_has_no_quality_gate(tmp_path: Path) -> None:
    data = tmp_path / "readings.csv"
    _blobs().to_csv(data, index=False)
    with init_project(tmp_path / "p", data=data, task="anomaly") as project:
        charter = load_charter(project.paths.charter)
        charter.acceptance.min_score = 0.9
        charter.acceptance.max_latency_p99_ms = 10_000.0
        charter.unsupervised.anomaly_method = "lof"
        charter.unsupervised.contamination = 0.05
        write_charter(charter, project.paths.charter)
    with Project.open(tmp_path / "p") as project:
        outcome = project.train()
        assert outcome.metric == "none"
        assert [g.name for g in outcome.gates] == ["flagged_share", "max_latency_ms"]
        assert outcome.gates[0].passed, outcome.gates[0].message
        assert outcome.champion and outcome.model.task == "anomaly"
        assert any("min_score is not checked" in w for w in outcome.warnings)
        assert set(outcome.metrics) >= {"flagged_share", "latency_p99_ms"}
        _model, bundle = project.registry.load(outcome.model.ref)
        assert bundle.family == "lof"
        run = project.store.runs.get(outcome.run_id)
        assert run.params["anomaly_method"] == "lof" and run.params["contamination"] == "0.05"


@pytest.mark.slow
def test_clustering_charter_keeps_a_label_column_out_of_the_features(tmp_path: Path) -> None:
    data = tmp_path / "wine.csv"
    load_wine(as_frame=True).frame.to_csv(data, index=False)
    with init_project(tmp_path / "w", data=data, task="clustering", target="target") as project:
        assert "target" not in project.contract().feature_names
        charter = load_charter(project.paths.charter)
        charter.unsupervised.max_clusters = 3
        write_charter(charter, project.paths.charter)
    with Project.open(tmp_path / "w") as project:
        outcome = project.train()
        assert outcome.metric == "silhouette" and outcome.metrics["silhouette"] > 0
        assert [g.name for g in outcome.gates] == ["margin_over_baseline"]
        assert outcome.gates[0].passed and outcome.champion
        evaluated = project.evaluate()
        assert evaluated.report.metrics["silhouette"] == pytest.approx(
            outcome.metrics["silhouette"]
        )


def test_init_needs_a_target_unless_the_task_is_unsupervised(tmp_path: Path) -> None:
    data = tmp_path / "readings.csv"
    _blobs(30).to_csv(data, index=False)
    with pytest.raises(InvalidInputError, match="--task clustering"):
        init_project(tmp_path / "p", data=data)
    with init_project(tmp_path / "p", data=data, task="clustering") as project:
        assert project.charter.target is None and project.charter.task == "clustering"
        assert "clusters" in project.charter.problem
        assert "unsupervised:" in project.paths.charter.read_text()


def test_flagged_share_gate_fails_when_the_holdout_is_flagged_far_more_often() -> None:
    ok = flagged_share_gate({"flagged_share": 0.05}, {"flagged": 6, "rows": 100})
    bad = flagged_share_gate({"flagged_share": 0.05}, {"flagged": 30, "rows": 100})
    assert ok.passed and not bad.passed
    assert "significantly different from the training share 0.05" in bad.message
