"""Every page of the web UI over HTTP from a real uvicorn server: content, links, errors."""

from __future__ import annotations

import re

import httpx
import pytest

from loopml.project import Project


def get(url: str, status: int = 200) -> str:
    response = httpx.get(url, timeout=30)
    assert response.status_code == status, response.text[:500]
    return response.text


def test_overview_shows_the_question_and_the_champion(ui_project: Project, ui_url: str) -> None:
    page = get(ui_url + "/")
    assert "<h1>churn</h1>" in page and "The question" in page and "Champions" in page
    champion = "champion" in ui_project.registry.get("churn:1").aliases
    assert ('href="/models/churn/1"' in page) == champion
    for entry in ("Data", "Runs", "Models", "Deployments", "Monitoring", "Alerts", "Audit"):
        assert f">{entry}</a>" in page


def test_pages_without_figures_do_not_load_plotly(ui_url: str) -> None:
    assert "/static/plotly.js" not in get(ui_url + "/audit")


def test_runs_are_listed_and_searchable(ui_project: Project, ui_url: str) -> None:
    page = get(ui_url + "/runs")
    train_runs = ui_project.store.runs.list(ui_project.name, kind="train")
    assert train_runs and f'href="/runs/{train_runs[0].id}"' in page
    filtered = get(ui_url + "/runs", status=200).count('href="/runs/')
    only_train = get(ui_url + "/runs?q=kind+%3D+%27train%27").count('href="/runs/')
    assert 0 < only_train < filtered


def test_a_bad_filter_is_shown_as_one_sentence(ui_url: str) -> None:
    page = get(ui_url + "/runs?q=metrics.roc_auc+%3E%3E+1")
    assert 'class="error"' in page
    assert "Traceback" not in page


def test_a_run_page_shows_params_metrics_and_children(ui_project: Project, ui_url: str) -> None:
    run = ui_project.store.runs.list(ui_project.name, kind="train")[0]
    page = get(ui_url + f"/runs/{run.id}")
    assert "Parameters" in page and "Metrics" in page
    assert "Child runs" in page


def test_an_unknown_run_is_404_with_the_reason(ui_url: str) -> None:
    page = get(ui_url + "/runs/doesnotexist", status=404)
    assert "doesnotexist" in page and 'class="error"' in page


def test_a_model_page_shows_gates_and_links_its_reports(ui_url: str) -> None:
    assert 'href="/models/churn/1"' in get(ui_url + "/models")
    page = get(ui_url + "/models/churn/1")
    assert "Acceptance gates" in page
    assert 'href="/reports/churn/1/evaluation.html"' in page
    report = httpx.get(ui_url + "/reports/churn/1/evaluation.html", timeout=30)
    assert report.status_code == 200 and "<html" in report.text


def test_report_files_are_limited_to_the_known_names(ui_url: str) -> None:
    assert "no report file" in get(ui_url + "/reports/churn/1/loopml.db", status=404)
    get(ui_url + "/reports/churn/99/evaluation.html", status=404)


def test_monitoring_charts_drift_over_time(ui_url: str) -> None:
    page = get(ui_url + "/monitoring")
    assert "drift over time" in page
    assert '<script src="/static/plotly.js"></script>' in page
    assert len(re.findall(r"\(files\)|churn:1", page)) >= 2


@pytest.mark.parametrize("path", ["/data", "/models", "/deployments", "/alerts", "/audit"])
def test_every_page_renders(ui_url: str, path: str) -> None:
    assert "<nav" in get(ui_url + path)


def test_plotly_is_served_once_with_caching(ui_url: str) -> None:
    first = httpx.get(ui_url + "/static/plotly.js", timeout=30)
    assert first.status_code == 200 and len(first.content) > 1_000_000
    again = httpx.get(
        ui_url + "/static/plotly.js", headers={"If-None-Match": first.headers["etag"]}, timeout=30
    )
    assert again.status_code == 304
