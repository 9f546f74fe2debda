"""Shareable state in Chromium: an edited cell of the playground goes into the address bar
and the sidebar's link, and that link opened in another browser context shows the same
matrix and the same figures; a tab bound to the URL is in the link too."""

from tests.browser.conftest import screenshot, wait_until_idle
from tests.browser.test_pages import assert_no_exception, block_outside_requests


def figures(page):
    """Every plotly trace's z matrix, read from plotly's own divs."""
    return page.evaluate("() => [...document.querySelectorAll('.js-plotly-plot')].map(g => g.data.map(t => t.z))")


def share_link(page) -> str:
    page.get_by_text("Share this demo").click()
    code = page.locator("[data-testid=stSidebar] [data-testid=stCode]").last
    code.wait_for(timeout=10_000)
    return code.inner_text().strip()


def test_an_edited_cell_reopens_from_the_link(server_url, browser, page):
    refused = block_outside_requests(page, server_url)
    page.goto(f"{server_url}/attention_playground")
    wait_until_idle(page)
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)
    before = figures(page)
    grid = page.locator("[data-testid=stDataFrame]").first    # Q
    grid.scroll_into_view_if_needed()
    page.wait_for_timeout(1000)  # let the grid draw its canvas
    box = grid.bounding_box()
    page.mouse.dblclick(box["x"] + 75, box["y"] + 54)         # row 1, d1 (past the row markers)
    editor = page.locator("textarea.gdg-input").first
    editor.wait_for(timeout=10_000)
    editor.fill("7")
    editor.press("Enter")
    page.wait_for_url("**Q=7*", timeout=60_000)
    wait_until_idle(page)
    edited = figures(page)
    assert edited != before
    link = share_link(page)
    assert link == f"{server_url}/attention_playground?Q=7,1,1,1;0,0,0,1;0,0,1,0;0,1,0,0;1,0,0,0", link
    screenshot(page, "share_edited_cell")

    other = browser.new_context(viewport={"width": 1400, "height": 2600}).new_page()
    refused += block_outside_requests(other, server_url)
    other.goto(link)
    wait_until_idle(other)
    other.wait_for_selector(".js-plotly-plot", timeout=60_000)
    assert_no_exception(other)
    assert figures(other) == edited
    assert other.locator("[data-testid=stAlert]").filter(has_text="URL parameter").count() == 0
    screenshot(other, "share_reopened")
    other.context.close()
    assert not refused, refused


def test_a_bound_tab_is_in_the_link(server_url, page):
    page.goto(f"{server_url}/predictive_vit?seed=5")
    wait_until_idle(page)
    page.get_by_role("tab", name="Rollout").click()
    page.wait_for_url("**vit_tab=Rollout*", timeout=60_000)
    wait_until_idle(page)
    assert share_link(page) == f"{server_url}/predictive_vit?seed=5&vit_tab=Rollout"
