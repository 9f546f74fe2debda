"""The Attention pages in Chromium: the benchmark button runs, and the pictures are captured."""

from tests.browser.conftest import screenshot, wait_until_idle
from tests.browser.test_pages import assert_no_exception


def test_benchmark_runs_in_the_browser(server_url, page):
    page.goto(f"{server_url}/attention_vs_conv?conv_max_side=32&conv_budget=4")
    wait_until_idle(page)
    page.get_by_role("button", name="Run benchmark").click()
    page.wait_for_selector("text=attention slope", timeout=120_000)
    wait_until_idle(page)
    assert_no_exception(page)
    assert page.locator(".js-plotly-plot").count() == 2
    assert "Side 32 × 32" in " ".join(page.locator("[data-testid=stAlert]").all_inner_texts())
    screenshot(page, "attention_vs_conv_benchmark")
    page.locator("[data-testid=stDataFrame]").last.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    screenshot(page, "attention_vs_conv_benchmark_table")


def test_playground_random_and_wrong_axis(server_url, page):
    page.goto(f"{server_url}/attention_playground?att_source=Random&att_wrong_axis=1&att_nq=6")
    wait_until_idle(page)
    assert_no_exception(page)
    assert "rows now sum" in " ".join(page.locator("[data-testid=stAlert]").all_inner_texts())
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)
    page.wait_for_timeout(1000)  # let the table editors draw their canvases
    screenshot(page, "attention_playground_random_wrong_axis")
