"""End to end: the real app (streamlit run) in headless Chromium.

Needs Debian's chromium at /usr/bin/chromium (``.ci/run`` installs it and sets
REQUIRE_E2E=1, so that in CI a missing browser fails instead of skipping).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]

if not CHROMIUM.exists():
    if os.environ.get("REQUIRE_E2E") == "1":
        raise RuntimeError("REQUIRE_E2E=1 but /usr/bin/chromium is missing (apt-get install "
                           "chromium)")
    pytest.skip("Debian chromium is not installed", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def app_url(database_url, tmp_path):
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "ADMIN_USER": "e2e-analyst",
           "HOME": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
         "--server.port", str(port), "--server.headless", "true",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/_stcore/health", timeout=1).text == "ok":
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            raise RuntimeError("streamlit did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture
def browser_page():
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(60_000)
            yield page
        finally:
            browser.close()


def _settle(page) -> None:
    """Wait until the script run that the last action started has finished."""
    page.wait_for_timeout(300)
    page.locator("[data-testid='stStatusWidget']").wait_for(state="hidden")


def test_load_demo_data_create_and_run_a_reclassify_job(app_url, browser_page, tmp_path):
    page = browser_page
    page.goto(app_url)
    page.get_by_text("The catalogue is empty").wait_for()
    assert page.get_by_text("(DATABASE_URL)").is_visible()
    assert page.get_by_text("e2e-analyst").is_visible()
    page.get_by_role("button", name="Load demo data").click()
    page.get_by_text("Live topics").wait_for()
    _settle(page)

    new_job = page.get_by_text("New job", exact=True)
    sync_api.expect(new_job).to_have_count(1)  # a rerun may show the old page beside the new
    new_job.click()
    create = page.get_by_role("button", name="Create job")
    create.wait_for()
    _settle(page)
    create.click()
    page.get_by_text("items to process").wait_for()
    _settle(page)
    page.get_by_role("button", name="Open job").first.click()
    page.get_by_role("button", name="Run").wait_for()
    _settle(page)
    page.get_by_role("button", name="Run").click()
    page.get_by_role("heading").filter(has_text="Completed").wait_for(timeout=120_000)
    # the page reruns once more after the last chunk to show the finished job's actions
    page.get_by_role("button", name="Rollback").wait_for(timeout=30_000)
    assert page.get_by_role("button", name="Dedup sweep these topics").is_visible()
    page.screenshot(path=tmp_path / "job_completed.png", full_page=True)
    assert (tmp_path / "job_completed.png").stat().st_size > 10_000


def test_taxonomy_screen_search_and_realign_job(app_url, browser_page, tmp_path):
    page = browser_page
    page.goto(app_url)
    page.get_by_role("button", name="Load demo data").click()  # loads the trees as well
    page.get_by_text("Live topics").wait_for()
    _settle(page)
    page.get_by_role("link", name="Taxonomy").click()
    page.get_by_role("heading", name="Taxonomy trees").wait_for()
    _settle(page)
    search = page.get_by_label("Search labels")
    search.fill("golf")
    search.press("Enter")
    _settle(page)
    page.get_by_text("nodes shown matching the search").wait_for()
    page.get_by_role("button", name="Realign subcategories").click()
    page.get_by_role("button", name="Run").wait_for()
    _settle(page)
    page.get_by_role("button", name="Run").click()
    page.get_by_role("heading").filter(has_text="Completed").wait_for(timeout=120_000)
    page.get_by_role("button", name="Rollback").wait_for(timeout=30_000)
    page.screenshot(path=tmp_path / "realign_completed.png", full_page=True)
