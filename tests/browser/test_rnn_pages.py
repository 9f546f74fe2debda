"""The recurrent-network pages in Chromium: their charts draw, live training runs and stops,
and every button pressed twice leaves no exception."""

import re

import pytest

from tests.browser.conftest import screenshot, wait_until_idle
from tests.browser.test_pages import assert_no_exception


def _click_and_wait(page, button, text: str) -> None:
    button.click()
    page.wait_for_selector(f"text={text}", timeout=180_000)
    wait_until_idle(page)


@pytest.mark.parametrize("stem,charts", [("memory_tasks", 3), ("hidden_state", 5),
                                         ("gradients", 4)])
def test_recurrent_pages_draw_their_charts(server_url, page, stem, charts):
    page.goto(f"{server_url}/{stem}")
    wait_until_idle(page)
    page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {charts}",
                           timeout=60_000)
    assert_no_exception(page)
    screenshot(page, f"rnn_{stem}")


def test_memory_page_trains_twice_then_stops_twice(server_url, page):
    page.goto(f"{server_url}/memory_tasks?mem_steps=25&mem_len=10")
    wait_until_idle(page)
    assert "Press Train" in page.locator("body").inner_text()
    train = page.get_by_role("button", name="Train 3 model(s) on CPU")
    for run in (1, 2):
        _click_and_wait(page, train, f"Run {run} finished 75 steps")
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 3",
                           timeout=60_000)
    assert_no_exception(page)
    body = page.locator("body").inner_text()
    assert "TCN val accuracy" in body and "this session" in body
    screenshot(page, "rnn_memory_tasks_trained")

    # a long run, stopped: the page says where, keeps the curve so far, and says which models ran
    page.goto(f"{server_url}/memory_tasks?mem_steps=1600&mem_len=10")
    wait_until_idle(page)
    page.get_by_role("button", name="Train 3 model(s) on CPU").click()
    page.wait_for_selector("text=/RNN \\(tanh\\): step [0-9]{2,}/", timeout=120_000)
    stop = page.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Stop")
    stop.click()
    page.wait_for_selector("text=Run 1 stopped at step", timeout=120_000)
    wait_until_idle(page)
    stop.click()                                   # nothing runs now: no change, no exception
    wait_until_idle(page)
    assert_no_exception(page)
    body = page.locator("body").inner_text()
    match = re.search(r"Run 1 stopped at step ([\d,]+) of 4,800", body)
    assert match and 0 < int(match.group(1).replace(",", "")) < 4800
    assert "stopped at step" in body and "not trained" in body
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 3",
                           timeout=60_000)
    screenshot(page, "rnn_memory_tasks_stopped")


def test_gradients_page_live_capacity_point_twice(server_url, page):
    page.goto(f"{server_url}/gradients?cap_hid=4&cap_k=2&grad_rho=1.5")
    wait_until_idle(page)
    body = page.locator("body").inner_text()
    assert "no gradient (exactly 0)" in body
    button = page.get_by_role("button", name=re.compile(r"Train H = 4, k = 2"))
    for run in (1, 2):
        _click_and_wait(page, button, f"Run {run} finished 1,000 steps")
    assert "Your run: all k right" in page.locator("body").inner_text()
    assert_no_exception(page)
    screenshot(page, "rnn_gradients_capacity_trained")
