"""The recurrent-network pages in Chromium: their charts draw, and live training runs."""

import pytest

from tests.browser.conftest import screenshot, wait_until_idle
from tests.browser.test_pages import assert_no_exception


@pytest.mark.parametrize("stem,charts", [("memory_tasks", 2), ("hidden_state", 5),
                                         ("gradients", 3)])
def test_recurrent_pages_draw_their_charts(server_url, page, stem, charts):
    page.goto(f"{server_url}/{stem}")
    wait_until_idle(page)
    page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {charts}",
                           timeout=60_000)
    assert_no_exception(page)
    screenshot(page, f"rnn_{stem}")


def test_memory_page_trains_live_in_the_browser(server_url, page):
    page.goto(f"{server_url}/memory_tasks?mem_steps=25&mem_len=10")
    wait_until_idle(page)
    assert "Press Train" in page.locator("body").inner_text()
    page.get_by_role("button", name="Train 3 model(s) on CPU").click()
    page.wait_for_selector("text=this session", timeout=120_000)
    wait_until_idle(page)
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 2",
                           timeout=60_000)
    assert_no_exception(page)
    assert "TCN val accuracy" in page.locator("body").inner_text()
    screenshot(page, "rnn_memory_tasks_trained")
