"""The Attention pages in Chromium: the benchmark measured on every press in two sessions,
Stop ending a running benchmark, crafted URLs shown as plain text, and the pictures."""

import time

from tests.browser.conftest import alert_text, screenshot, wait_until_idle
from tests.browser.test_pages import assert_no_exception

TINY = "conv_max_side=32&conv_channels=8&conv_budget=4"


def main_button(page, name):
    """A button of the page itself (the app header has a Stop button of its own while running)."""
    return page.locator("[data-testid=stMainBlockContainer]").get_by_role("button", name=name, exact=True)


def measured_times(page):
    """The y values of the measured series of the cost chart, read from plotly's own div."""
    return page.evaluate("""() => {
        const plots = [...document.querySelectorAll('.js-plotly-plot')];
        const cost = plots.find(p => (p.data || []).some(t => (t.name || '').includes('measured')));
        return cost.data.filter(t => t.name.includes('measured')).map(t => JSON.stringify(t.y));
    }""")


def run_benchmark(page):
    main_button(page, "Run benchmark").click()
    page.wait_for_selector("text=attention slope", timeout=120_000)
    wait_until_idle(page)
    assert_no_exception(page)
    return measured_times(page)


def test_run_twice_in_two_sessions_measures_every_time(server_url, browser):
    sessions = [browser.new_context(viewport={"width": 1400, "height": 2600}) for _ in range(2)]
    try:
        pages = [context.new_page() for context in sessions]
        for page in pages:
            page.goto(f"{server_url}/attention_vs_conv?{TINY}")
            wait_until_idle(page)
        results = []
        for page in pages:  # the same settings in both sessions, twice each
            results.append(run_benchmark(page))
            results.append(run_benchmark(page))
        for page in pages:
            assert "This app has encountered an error" not in page.locator("body").inner_text()
            assert page.locator(".js-plotly-plot").count() == 2
            alerts = alert_text(page)
            assert "Side 32 × 32" in alerts and "attention skipped" in alerts
        # four independent measurements: timings to the microsecond never repeat exactly
        assert len({str(r) for r in results}) == 4, results
        screenshot(pages[1], "attention_vs_conv_benchmark")
        pages[1].locator("[data-testid=stDataFrame]").last.scroll_into_view_if_needed()
        pages[1].wait_for_timeout(500)
        screenshot(pages[1], "attention_vs_conv_benchmark_table")
    finally:
        for context in sessions:
            context.close()


def test_stop_ends_a_running_benchmark(server_url, browser):
    """A long sweep (largest side 128, 15 repeats: tens of seconds here) is stopped a few
    seconds in; the page is idle again within seconds and says where it stopped, keeping the
    sizes measured so far marked partial."""
    sessions = [browser.new_context(viewport={"width": 1400, "height": 2600}) for _ in range(2)]
    try:
        for context in sessions:
            page = context.new_page()
            page.goto(f"{server_url}/attention_vs_conv?conv_max_side=128&conv_repeats=15&conv_budget=1024")
            wait_until_idle(page)
            for _ in range(2):  # press Run and Stop twice in each session
                main_button(page, "Run benchmark").click()
                page.wait_for_selector("[data-testid=stProgress]", timeout=60_000)
                page.wait_for_timeout(2500)
                started = time.monotonic()
                main_button(page, "Stop").click()
                wait_until_idle(page, timeout_ms=60_000)
                stopped_after = time.monotonic() - started
                assert_no_exception(page)
                text = page.locator("body").inner_text()
                assert "Estimated" in text                                  # measured before the run
                assert "stopped at size" in text and "marked partial" in text
                assert ("Partial result: stopped after" in text
                        or "Stopped before the first size was measured" in text)
                assert page.locator("[data-testid=stProgress]").count() == 0
                assert stopped_after < 30, stopped_after
        screenshot(page, "attention_vs_conv_stopped")
    finally:
        for context in sessions:
            context.close()


CRAFTED = {
    "heading": ("x%0A%0A%23%20Class%20cancelled", "D=x\\n\\n# Class cancelled"),
    "image": ("!%5B%5D(http://host/t.gif)", "D=![](http://host/t.gif)"),
    "link": ("%5Bfree%20marks%5D(http://host/a)%20**now**", "D=[free marks](http://host/a) **now**"),
}


def test_crafted_url_values_are_shown_as_plain_text(server_url, page):
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    for name, (query, literal) in CRAFTED.items():
        page.goto(f"{server_url}/softmax_flattening?D={query}")
        wait_until_idle(page)
        assert_no_exception(page)
        notice = page.locator("[data-testid=stAlert]").filter(has_text="URL parameter")
        assert notice.count() == 1, name
        assert notice.locator("h1, h2, h3, h4, h5, h6, img, a").count() == 0, notice.inner_html()
        assert literal in notice.inner_text(), notice.inner_text()
        assert "using the default 10" in notice.inner_text()
        screenshot(page, f"softmax_crafted_url_{name}")
    assert not [url for url in requested if url.startswith("http://host/")], requested


def test_a_typed_cell_is_quoted_as_plain_text(server_url, page):
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{server_url}/attention_vs_conv")
    wait_until_idle(page)
    grid = page.locator("[data-testid=stDataFrame]").first
    grid.scroll_into_view_if_needed()
    page.wait_for_timeout(1000)  # let the grid draw its canvas
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 90, box["y"] + 54)  # select row 1, kernel
    page.keyboard.press("Enter")                    # open the cell's editor
    editor = page.locator("textarea.gdg-input").first
    editor.wait_for(timeout=10_000)
    editor.fill("![](//h/k.gif)")
    editor.press("Enter")
    alert = page.locator("[data-testid=stAlert]").filter(has_text="is not a number")
    alert.first.wait_for(timeout=60_000)
    wait_until_idle(page)
    assert alert.count() == 1
    assert alert.locator("img, a, h1, h2, h3, h4").count() == 0
    assert "kernel '![](//h/k.gif)' is not a number" in alert.inner_text()
    assert not [url for url in requested if url.endswith("/h/k.gif")], requested
    screenshot(page, "attention_vs_conv_typed_markdown")


def test_playground_random_and_wrong_axis(server_url, page):
    page.goto(f"{server_url}/attention_playground?att_source=Random&att_wrong_axis=1&att_nq=6")
    wait_until_idle(page)
    assert_no_exception(page)
    assert "rows now sum" in alert_text(page)
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)
    page.wait_for_timeout(1000)  # let the table editors draw their canvases
    screenshot(page, "attention_playground_random_wrong_axis")


def test_off_grid_url_values_say_what_was_used(server_url, page):
    page.goto(f"{server_url}/identity_attention?id_n=3.7&id_c=2.3")
    wait_until_idle(page)
    assert_no_exception(page)
    alerts = alert_text(page)
    assert "id_n=3.7" in alerts and "is not a whole number; using 4" in alerts
    assert "id_c=2.3" in alerts and "using 2.5" in alerts
    screenshot(page, "identity_off_grid_url")


def test_the_default_run_shows_positive_slopes(server_url, page):
    """The page's defaults, as a lecturer would press Run: both fitted slopes positive (the
    first, cold calls are paid before the first size). The figures are printed."""
    page.goto(f"{server_url}/attention_vs_conv")
    wait_until_idle(page)
    run_benchmark(page)
    metrics = dict(zip(page.locator("[data-testid=stMetricLabel]").all_inner_texts(),
                       page.locator("[data-testid=stMetricValue]").all_inner_texts()))
    caption = next(c for c in page.locator("[data-testid=stCaptionContainer]").all_inner_texts()
                   if "cold call" in c)
    print("default run:", metrics, caption[caption.index("its first"):caption.index("Slopes")])
    for label in ("attention slope (time ∝ N^slope)", "convolution slope"):
        assert metrics[label] != "n/a" and float(metrics[label]) > 0, metrics
    screenshot(page, "attention_vs_conv_default_run")
