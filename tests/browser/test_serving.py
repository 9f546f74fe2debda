"""One server, a class: jobs queue with their number shown, Stop acts inside a long step within
2 s, and a closed tab's session is shut down promptly. Two browser sessions at once against a
server started with one job at a time."""

import re
import time
import urllib.request

import pytest

from tests.browser.conftest import ARTIFACTS, running_server, screenshot, wait_until_idle
from tests.browser.test_pages import assert_no_exception

# long steps (hidden 512 on a one-hot input of 160 steps), a cap long enough to queue behind
LONG = "memory_tasks?mem_len=160&mem_hid=256&mem_steps=400&mem_lstm=false&mem_tcn=false"


@pytest.fixture(scope="module")
def one_job_server():
    with running_server("serving_server.log", ("--logger.level", "info"),
                        {"SEQVIZ_MAX_JOBS": "1", "SEQVIZ_SESSION_GRACE_S": "2",
                         "SEQVIZ_MAX_STEP_S": "5", "SEQVIZ_MAX_JOB_S": "3600"}) as url:
        yield url


def _stop(page):
    return page.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Stop")


def _train(page):
    return page.get_by_test_id("stMainBlockContainer").get_by_role("button", name=re.compile("^Train"))


def _stop_latency(page, run: int) -> float:
    """Press Stop; the seconds from the press to the job's end, as the page reports them."""
    _stop(page).click()
    page.wait_for_selector(f"text=Run {run} stopped at step", timeout=60_000)
    match = re.search(rf"Run {run} stopped at step [\d,]+ of [\d,]+ after [\d.]+ s \(it ended ([\d.]+) s after Stop",
                      page.locator("body").inner_text())
    assert match, page.locator("body").inner_text()[:2000]
    return float(match.group(1))


def test_a_closed_tab_is_shut_down_within_seconds(one_job_server, browser):
    log = ARTIFACTS / "serving_server.log"
    before = log.read_text().count("closed 1 session(s)")   # the first session of this server
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{one_job_server}/softmax_flattening")
    wait_until_idle(page)
    context.close()
    deadline = time.time() + 20
    while time.time() < deadline and log.read_text().count("closed 1 session(s)") == before:
        time.sleep(0.5)
    assert log.read_text().count("closed 1 session(s)") > before, "the closed tab's session was kept"
    with urllib.request.urlopen(f"{one_job_server}/_stcore/health", timeout=5) as response:
        assert response.status == 200


def test_a_second_job_waits_its_turn_and_stop_acts_within_two_seconds(one_job_server, browser):
    contexts = [browser.new_context(viewport={"width": 1400, "height": 2200}) for _ in range(2)]
    first, second = (context.new_page() for context in contexts)
    try:
        for page in (first, second):
            page.goto(f"{one_job_server}/{LONG}")
            wait_until_idle(page)
            assert_no_exception(page)
        for press in (1, 2):                 # every button twice, in both sessions
            _train(first).click()
            first.wait_for_selector("text=/RNN \\(tanh\\): step [0-9]+/", timeout=120_000)
            _train(second).click()
            second.wait_for_selector("text=/Busy: you are number 1 in the queue/", timeout=60_000)
            screenshot(second, f"serving_queued_{press}")
            assert _stop_latency(first, press) < 2.0
            second.wait_for_selector("text=/RNN \\(tanh\\): step [0-9]+/", timeout=120_000)
            assert _stop_latency(second, press) < 2.0
            for page in (first, second):
                wait_until_idle(page)
                assert_no_exception(page)
        _stop(first).click()                 # nothing runs: no change, no exception
        wait_until_idle(first)
        assert_no_exception(first)
        screenshot(first, "serving_stopped")
    finally:
        for context in contexts:
            context.close()
