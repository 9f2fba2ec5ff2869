"""The web UI in a real headless Chromium (Debian's package) driven by Playwright: navigation,
the run search form, and Plotly charts that actually render."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is required for the UI tests (apt-get install chromium).")
        pytest.skip("Chromium is not installed (apt-get install chromium).")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    opened = browser.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    yield opened
    opened.close()
    assert not errors, errors


def test_navigate_from_the_overview_to_a_model_and_its_report(page: Page, ui_url: str) -> None:
    page.goto(ui_url + "/")
    page.click("nav.top >> text=Models")
    assert page.url.endswith("/models")
    page.click("a[href='/models/churn/1']")
    assert page.locator("h1").inner_text() == "churn:1"
    page.click("a[href='/reports/churn/1/evaluation.html']")
    page.wait_for_url("**/reports/churn/1/evaluation.html")
    page.wait_for_load_state("load")
    figures = page.locator(".plotly-graph-div")
    expect(figures.nth(3)).to_be_attached()
    figures.last.scroll_into_view_if_needed()
    page.wait_for_selector(f"#{figures.last.get_attribute('id')} .main-svg")


def test_the_search_form_filters_runs(page: Page, ui_url: str) -> None:
    page.goto(ui_url + "/runs")
    everything = page.locator("table.data tbody tr").count()
    page.fill("form.filter input[name=q]", "kind = 'train'")
    page.click("form.filter button")
    page.wait_for_url("**/runs?q=*")
    assert 0 < page.locator("table.data tbody tr").count() < everything


def test_drift_over_time_is_drawn_by_plotly(page: Page, ui_url: str) -> None:
    page.goto(ui_url + "/monitoring")
    page.wait_for_selector(".js-plotly-plot .main-svg")
    assert page.locator(".js-plotly-plot .scatterlayer .trace").count() >= 1
