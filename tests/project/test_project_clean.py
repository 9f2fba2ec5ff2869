"""The charter's cleaning on the training path: the model trains on cleaned rows, the run
records what changed, and scoring replays the learned bounds and fill values."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from loopml.cli import app
from loopml.project import Project, init_project
from loopml.registry import export_model, load_skops_export

runner = CliRunner()


def _frame(n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    income = rng.normal(50, 10, n)
    income[:8] = 5_000.0  # gross outliers
    income[8:20] = np.nan
    plan = rng.choice(["basic", "pro"], n).astype(object)
    plan[20:30] = None
    churn = np.where(income < 48, "yes", "no")
    frame = pd.DataFrame({"income": income, "plan": plan, "churn": churn})
    return pd.concat([frame, frame.iloc[100:110]], ignore_index=True)  # 10 exact duplicates


@pytest.fixture
def project(tmp_path: Path) -> Path:
    _frame().to_csv(tmp_path / "data.csv", index=False)
    folder = tmp_path / "proj"
    with init_project(folder, data=tmp_path / "data.csv", target="churn", time_budget=30):
        pass
    charter = yaml.safe_load((folder / "loopml.yaml").read_text())
    charter["cleaning"] = {
        "drop_duplicates": True,
        "outliers": {"method": "quantile", "lower": 0.02, "upper": 0.98},
        "missing": {"default": "median", "columns": {"plan": "most_frequent"}},
    }
    charter["training"] = {
        "time_budget": 30,
        "families": ["dummy", "linear"],
        "tune": False,
        "cv_folds": 2,
        "ensemble": False,
        "calibrate": False,
    }
    (folder / "loopml.yaml").write_text(yaml.safe_dump(charter))
    return folder


@pytest.mark.slow
def test_training_cleans_its_rows_logs_the_report_and_scoring_replays_it(
    project: Path, tmp_path: Path
) -> None:
    with Project.open(project) as opened:
        outcome = opened.train()
        run = opened.store.runs.get(outcome.run_id)
        assert run.metrics["cleaning_rows_dropped"] > 0
        assert run.metrics["cleaning_values_capped"] >= 8
        assert run.metrics["cleaning_cells_filled"] > 0
        report = json.loads(opened.artifacts.get_bytes(run.artifacts["cleaning.json"]))
        assert [s["step"] for s in report["steps"]] == ["drop_duplicates", "outliers", "missing"]
        low, high = report["learned"]["bounds"]["income"]
        assert report["learned"]["fill_values"]["plan"] in ("basic", "pro")
        assert int(run.params["train_rows"]) == report["rows_after"]
        _version, bundle = opened.registry.load(outcome.model.ref)
        assert bundle.pipeline.steps[0][0] == "clean"
        assert [name for name, _ in bundle.pipeline.steps[1:]] == ["preprocess", "model"]
        rows = pd.DataFrame({"income": [1e9, high, np.nan], "plan": ["pro", "pro", None]})
        scored = bundle.predict_frame(rows)
        assert scored.iloc[0].equals(scored.iloc[1])  # an outlier scores as its cap
        fill = report["learned"]["fill_values"]
        filled = bundle.predict_frame(
            pd.DataFrame({"income": [fill["income"]], "plan": [fill["plan"]]})
        )
        assert scored.iloc[[2]].reset_index(drop=True).equals(filled)
        exported = export_model(bundle, "skops", tmp_path / "skops", model_ref=outcome.model.ref)
        assert exported.files
        loaded = load_skops_export(tmp_path / "skops")
        assert loaded.predict_frame(rows).equals(scored)
        assert low < high


def test_data_clean_previews_the_changes_without_storing_anything(project: Path) -> None:
    result = runner.invoke(app, ["data", "clean", "-p", str(project), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    unique = _frame().drop_duplicates()
    assert out["rows_before"] == 410 and out["rows_after"] == len(unique)
    assert out["values_capped"] > 0 and out["cells_filled"] == unique.isna().sum().sum()
    result = runner.invoke(app, ["data", "clean", "-p", str(project)])
    assert result.exit_code == 0, result.output
    assert f"dropped {410 - len(unique)} exact duplicate rows" in result.output
    assert f"plan: filled {unique['plan'].isna().sum()} cell(s)" in result.output
    with Project.open(project) as opened:
        assert len(opened.store.datasets.list(opened.name)) == 1
        assert opened.store.runs.list(opened.name) == []
