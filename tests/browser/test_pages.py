"""Every page in headless Chromium: it loads with every request outside the app blocked (no internet),
runs without an exception, draws its charts, and is captured; its charts keep their titles, legends
and labels apart at a projector's, a laptop's and a phone's size, in presentation mode in the light
and the dark theme too (screenshots of each in tests/artifacts/layouts/)."""

from pathlib import Path
from urllib.parse import urlparse

import pytest

from seqviz.ui import registry
from tests.browser.conftest import ARTIFACTS, alert_text, running_server, screenshot, wait_until_idle

# A projector, a laptop at 150 % zoom, a phone.
SIZES = ((1920, 1080), (1280, 720), (390, 844))
PROJECTOR_WIDTH = 1280   # presentation mode's 18 px chart text is checked from this width up
LAYOUTS = ARTIFACTS / "layouts"
# For every plotly chart on the page: its title, axis titles, legend, panel labels, colour-bar title
# and tick labels; any two of them (tick labels of one axis excepted) that overlap, and any that
# runs past the chart's edge.
OVERLAPS = (Path(__file__).parent / "overlaps.js").read_text()

PAGES = [registry.HOME] + list(registry.TOPICS)


def assert_no_exception(page):
    assert page.locator("[data-testid=stException]").count() == 0, page.content()[:2000]
    assert "Page not found" not in page.locator("body").inner_text()


def block_outside_requests(page, server_url: str) -> list[str]:
    """Abort every request that does not go to the app's own server, as on a machine with no
    internet; the list it returns fills with the addresses that were refused."""
    own = urlparse(server_url).netloc
    refused: list[str] = []

    def route(request_route) -> None:
        url = request_route.request.url
        if urlparse(url).netloc == own or url.startswith(("data:", "blob:")):
            request_route.continue_()
        else:
            refused.append(url)
            request_route.abort()

    page.route("**/*", route)
    return refused


@pytest.mark.parametrize("topic", PAGES, ids=[t.url_path or "home" for t in PAGES])
def test_page_loads_in_chromium_with_no_internet(server_url, page, topic):
    refused = block_outside_requests(page, server_url)
    page.goto(f"{server_url}/{topic.url_path}")
    wait_until_idle(page)
    assert_no_exception(page)
    assert refused == []                       # nothing on the page needs anything but the app's server
    charts = page.locator(".js-plotly-plot")
    for index in range(charts.count()):        # and every chart is drawn from the app's own plotly.js
        assert charts.nth(index).locator(".main-svg").count() > 0
    assert page.locator("h1").first.inner_text().strip() != ""
    assert page.locator("[data-testid=stSidebar]").count() == 1
    path = screenshot(page, f"page_{topic.url_path or 'home'}")
    assert path.stat().st_size > 10_000
    name = topic.url_path or "home"
    for width, height in SIZES:
        assert_nothing_overlaps(page, width, height, f"{name}, {width}x{height}")
    # Presentation mode, in both themes (the app follows the browser's colour scheme).
    page.goto(f"{server_url}/{topic.url_path}?present=1")
    wait_until_idle(page)
    assert_no_exception(page)
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == "21px"
    assert refused == []
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        for width, height in SIZES:
            if width >= PROJECTOR_WIDTH:   # a phone in presentation mode is captured, not checked
                assert_nothing_overlaps(page, width, height, f"{name}, presentation, {scheme}, {width}x{height}")
            else:
                page.set_viewport_size({"width": width, "height": height})
            capture_whole_page(page, LAYOUTS / f"{name}_present_{scheme}_{width}x{height}.png", height)
    page.emulate_media(color_scheme="light")


def assert_nothing_overlaps(page, width: int, height: int, where: str) -> None:
    page.set_viewport_size({"width": width, "height": height})
    page.wait_for_timeout(700)   # plotly redraws a resized chart after a short delay
    clashes = page.evaluate(OVERLAPS)
    assert clashes == [], f"{where}: {clashes[:5]}"


def capture_whole_page(page, path: Path, height: int) -> None:
    """The whole page at the viewport's width (the app scrolls inside its main element, so the
    viewport is stretched to its height for the picture), then the viewport as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"]
    full = page.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": width, "height": min(max(full, height), 12_000)})
    page.wait_for_timeout(500)
    page.screenshot(path=str(path))
    page.set_viewport_size({"width": width, "height": height})
    assert path.stat().st_size > 10_000


def test_softmax_page_draws_its_charts(server_url, page):
    page.goto(f"{server_url}/softmax_flattening?D=1000")
    wait_until_idle(page)
    assert_no_exception(page)
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)
    assert page.locator(".js-plotly-plot").count() == 4
    assert "0.00271362" in page.locator("[data-testid=stMetric]").all_inner_texts()[0]


def test_garbage_url_shows_a_notice_not_a_traceback(server_url, page):
    page.goto(f"{server_url}/softmax_flattening?D=abc&device=quantum&seed=1e999")
    wait_until_idle(page)
    assert_no_exception(page)
    alerts = alert_text(page)
    assert "D=abc" in alerts and "device=quantum" in alerts and "seed=1e999" in alerts
    screenshot(page, "softmax_garbage_url")


def test_sidebar_survives_a_rerun_and_writes_the_url(server_url, page):
    page.goto(f"{server_url}/")
    wait_until_idle(page)
    seed_box = page.locator("[data-testid=stSidebar] input[type=number]")
    seed_box.fill("42")
    seed_box.press("Enter")
    page.wait_for_url("**seed=42**", timeout=30_000)
    wait_until_idle(page)
    assert_no_exception(page)
    assert page.locator("[data-testid=stSidebar] input[type=number]").input_value() == "42"
    page.get_by_role("link", name="Open Softmax flattening").click()
    wait_until_idle(page)
    page.wait_for_url("**/softmax_flattening**", timeout=30_000)
    assert page.locator("[data-testid=stSidebar] input[type=number]").input_value() == "42"
    assert_no_exception(page)


def test_a_fresh_servers_first_visitor_by_bookmark_gets_the_whole_app(page):
    """Streamlit starts a server in its old pages-folder mode until app.py has run once;
    a bookmarked page as the very first request must still get the router and sidebar."""
    with running_server("fresh_server.log") as url:
        page.goto(f"{url}/softmax_flattening?D=1000")
        wait_until_idle(page)
        assert_no_exception(page)
        sidebar = page.locator("[data-testid=stSidebar]")
        assert sidebar.get_by_text("Random seed").count() == 1
        assert sidebar.get_by_text("Permutation and positions").count() == 1
        assert "0.00271362" in page.locator("[data-testid=stMetric]").all_inner_texts()[0]


def test_the_menu_switches_to_the_dark_theme_and_the_charts_follow(server_url, page):
    page.goto(f"{server_url}/softmax_flattening")
    wait_until_idle(page)
    background = "getComputedStyle(document.querySelector('[data-testid=stApp]')).backgroundColor"
    assert page.evaluate(background) == "rgb(255, 255, 255)"
    page.locator("[data-testid=stMainMenu]").click()
    page.locator("[data-testid=stMainMenuItem-theme-Dark]").click()
    page.wait_for_timeout(1500)
    red, green, blue = (int(v) for v in page.evaluate(background)[4:-1].split(","))
    assert max(red, green, blue) < 60                      # the page is dark ...
    plot_text = page.evaluate("getComputedStyle(document.querySelector('.js-plotly-plot .xtick text')).fill")
    assert min(int(v) for v in plot_text[4:-1].split(",")) > 120   # ... and the charts' text is light on it
    assert_no_exception(page)
    screenshot(page, "softmax_dark_theme")
