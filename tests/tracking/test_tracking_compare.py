"""Comparing runs: params side by side (differences found), latest metrics, histories as charts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from loopml.errors import InvalidInputError, NotFoundError
from loopml.store import MetadataStore, open_store
from loopml.tracking import compare_runs, start_run


@pytest.fixture
def store() -> Iterator[MetadataStore]:
    with open_store("sqlite://") as opened:
        yield opened


def _run(store: MetadataStore, name: str, lr: float, losses: list[float]) -> str:
    with start_run(store, "p", name) as run:
        run.log_params({"lr": lr, "family": "lightgbm"})
        for step, loss in enumerate(losses):
            run.log_metric("loss", loss, step=step)
        run.log_metric("roc_auc", 1 - losses[-1])
    return run.id


def test_compare_lines_up_params_metrics_and_histories(store: MetadataStore) -> None:
    first = _run(store, "fast", 0.3, [0.9, 0.5, 0.4])
    second = _run(store, "slow", 0.1, [0.9, 0.7, 0.6, 0.3])
    comparison = compare_runs(store, [first[:8], second])
    data = comparison.to_dict()
    assert [r["name"] for r in data["runs"]] == ["fast", "slow"]
    assert data["params"]["lr"] == {first: "0.3", second: "0.1"}
    assert data["differing_params"] == ["lr"]
    assert data["metrics"]["roc_auc"][first] == pytest.approx(0.6)
    assert set(data["histories"]) == {"loss"}  # roc_auc has one point per run: table only
    assert [p["value"] for p in data["histories"]["loss"][second]] == [0.9, 0.7, 0.6, 0.3]


def test_compare_html_has_tables_and_a_plotly_chart_per_history(
    store: MetadataStore, tmp_path: Path
) -> None:
    ids = [_run(store, f"r{i}", 0.1 * (i + 1), [1.0, 0.5 - i / 10]) for i in range(3)]
    written = compare_runs(store, ids).write_html(tmp_path / "compare.html")
    page = written.read_text()
    assert "Run comparison" in page
    assert 'id="history-0"' in page and "Plotly.newPlot" in page
    assert all(run_id[:8] in page for run_id in ids)


def test_compare_needs_two_distinct_existing_runs(store: MetadataStore) -> None:
    only = _run(store, "one", 0.1, [1.0])
    with pytest.raises(InvalidInputError, match="at least two"):
        compare_runs(store, [only])
    with pytest.raises(InvalidInputError, match="more than once"):
        compare_runs(store, [only, only[:10]])
    with pytest.raises(NotFoundError, match="nothere"):
        compare_runs(store, [only, "nothere"])
