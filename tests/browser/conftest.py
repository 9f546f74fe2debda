"""A real seqviz server and headless Chromium, for the browser tests."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bench.served import free_port, stop_server
from tests.conftest import ARTIFACTS, ROOT

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage"]


def _chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _missing(reason: str) -> None:
    """Under CI a missing browser is a failure, never a silent skip."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"browser tests cannot run under CI: {reason}")
    pytest.skip(reason)


@contextlib.contextmanager
def running_server(log_name: str = "server.log", extra_args: tuple[str, ...] = (),
                   env: dict[str, str] | None = None):
    """A fresh `streamlit run app.py` on a free port, healthy; yields its URL. `extra_args`
    go to `streamlit run`, `env` adds to the environment (the server's limits, say)."""
    port = free_port()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = open(ARTIFACTS / log_name, "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.fileWatcherType", "none", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", *extra_args],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "SEQVIZ_THREADS": "2", **(env or {})},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail(f"seqviz server did not become healthy; see {ARTIFACTS / log_name}")
        yield url
    finally:
        stop_server(process)
        log.close()


@pytest.fixture(scope="session")
def server_url():
    with running_server() as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    path = _chromium_path()
    if path is None:
        _missing("no chromium executable on PATH (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 2600})
    page = context.new_page()
    yield page
    context.close()


def wait_until_idle(page, timeout_ms: int = 120_000) -> None:
    """Wait for the app to finish its script run (and for the page to settle)."""
    page.wait_for_selector("[data-testid=stApp]", timeout=timeout_ms)
    page.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]",
                           timeout=timeout_ms)
    page.wait_for_timeout(400)
    page.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]",
                           timeout=timeout_ms)
    # a large page may still be drawing its elements (grey skeletons) after the run ends
    page.wait_for_function("!document.querySelector('[data-testid=stSkeleton]')", timeout=timeout_ms)


def alert_text(page) -> str:
    """The text of every alert (info, warning, error) on the page, joined."""
    return " ".join(page.locator("[data-testid=stAlert]").all_inner_texts())


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def main_button(page, name):
    """A button of the page itself (the app header has a Stop button of its own while running)."""
    return page.locator("[data-testid=stMainBlockContainer]").get_by_role("button", name=name, exact=True)


def still(page) -> None:
    """No pointer over a button and nothing focused: no tooltip in the screenshot."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.mouse.move(1, 1)
    page.wait_for_timeout(600)
