"""The video captioning page in Chromium: every tab, every button pressed twice in two sessions
(Play, Stop, Measure, Compute on the test set), a real GIF and a corrupt file uploaded."""

import re
from pathlib import Path

import streamlit

from tests.browser.conftest import alert_text, main_button, screenshot, still, wait_until_idle
from tests.browser.test_pages import assert_no_exception

TABS = ["Watch a clip", "Attention", "Over the test set", "Cost"]
FIREWORKS = next((Path(streamlit.__file__).parent / "static" / "static" / "media").glob("fireworks*.gif"))


def live_line(page) -> str:
    return next(line for line in page.inner_text("body").splitlines() if line.startswith("Live ("))


def test_every_tab_opens_and_is_captured(server_url, page):
    page.goto(f"{server_url}/video_captioning")
    wait_until_idle(page)
    for tab in TABS:
        page.get_by_role("tab", name=tab).click()
        wait_until_idle(page)
        assert_no_exception(page)
        assert page.get_by_role("tab", name=tab).get_attribute("aria-selected") == "true"
        if tab == "Attention":
            assert page.locator(".js-plotly-plot").count() == 3
        if tab == "Over the test set":
            assert page.locator(".js-plotly-plot").count() == 2
        screenshot(page, "page_video_captioning_" + tab.lower().replace(" ", "_"))


def test_every_button_twice_in_two_sessions(server_url, browser):
    sessions = [browser.new_context(viewport={"width": 1400, "height": 2600}) for _ in range(2)]
    try:
        pages = [context.new_page() for context in sessions]
        for page in pages:
            page.goto(f"{server_url}/video_captioning?cap_fps=30&cap_frame=12")
            wait_until_idle(page)
        for page in pages:
            for _ in range(2):                            # Play to the end, twice (the second from the start)
                main_button(page, "Play").click()
                wait_until_idle(page)
                assert_no_exception(page)
                assert "after 24 frame(s)" in live_line(page)
            page.goto(f"{page.url.split('?')[0]}?cap_fps=1&cap_frame=0")
            wait_until_idle(page)
            main_button(page, "Play").click()             # one frame a second: still playing ...
            page.wait_for_function("document.body.innerText.includes('after 3 frame(s)')", timeout=30_000)
            main_button(page, "Play").click()             # ... Play again continues from there ...
            page.wait_for_function("document.body.innerText.includes('after 5 frame(s)')", timeout=30_000)
            main_button(page, "Stop").click()             # ... and Stop keeps the frame reached
            wait_until_idle(page)
            assert_no_exception(page)
            reached = int(re.search(r"after (\d+) frame", live_line(page)).group(1))
            assert 5 <= reached < 24
            main_button(page, "Stop").click()             # Stop with nothing playing changes nothing
            wait_until_idle(page)
            assert f"after {reached} frame(s)" in live_line(page)
            assert_no_exception(page)
        measured = []
        for page in pages:
            page.get_by_role("tab", name="Cost").click()
            wait_until_idle(page)
            for _ in range(2):
                main_button(page, "Measure").click()
                page.wait_for_function("/took [\\d.]+ ms per frame/.test(document.body.innerText)", timeout=120_000)
                wait_until_idle(page)
                assert_no_exception(page)
                measured.append(tuple(re.findall(r"took ([\d.]+) ms", page.inner_text("body"))))
        assert all(len(times) == 3 for times in measured), measured   # live, per-frame and offline
        assert len(set(measured)) == 4, measured       # measured at every press, never replayed
        still(pages[1])
        screenshot(pages[1], "page_video_captioning_measured")
        for page in pages:
            page.get_by_role("tab", name="Attention").click()
            wait_until_idle(page)
            for _ in range(2):
                main_button(page, "Compute on the test set").click()
                page.wait_for_function("document.body.innerText.includes('of its captions change')",
                                       timeout=120_000)
                wait_until_idle(page)
                assert_no_exception(page)
        still(pages[0])
        screenshot(pages[0], "page_video_captioning_attention_modes")
    finally:
        for context in sessions:
            context.close()


def test_a_real_gif_and_a_corrupt_file(server_url, page, tmp_path):
    page.goto(f"{server_url}/video_captioning?cap_source=Upload")
    wait_until_idle(page)
    uploader = page.locator("[data-testid=stFileUploader] input[type=file]")
    uploader.set_input_files(str(FIREWORKS))
    page.wait_for_function("document.body.innerText.includes('picked evenly')", timeout=120_000)
    wait_until_idle(page)
    assert_no_exception(page)
    assert "Out of domain" in page.inner_text("body") and "Truth:" not in page.inner_text("body")
    screenshot(page, "page_video_captioning_upload")
    corrupt = tmp_path / "broken.mp4"
    corrupt.write_bytes(b"\x00not a video" * 200)
    uploader.set_input_files(str(corrupt))
    page.wait_for_function("document.body.innerText.includes('Cannot use')", timeout=120_000)
    wait_until_idle(page)
    assert_no_exception(page)
    alert = page.locator("[data-testid=stAlert]").filter(has_text="Cannot use")
    assert "broken.mp4" in alert.inner_text() and "upload fireworks" in alert.inner_text()
    assert "Live (" in page.inner_text("body")                 # the fireworks clip is still captioned
    screenshot(page, "page_video_captioning_corrupt_upload")


def test_garbage_url_shows_notices(server_url, page):
    page.goto(f"{server_url}/video_captioning?cap_k=abc&cap_frame=99&cap_source=nope&cap_tab=zzz")
    wait_until_idle(page)
    assert_no_exception(page)
    alerts = alert_text(page)
    assert "cap_k=abc" in alerts and "cap_frame=99" in alerts and "cap_source=nope" in alerts
    screenshot(page, "page_video_captioning_garbage_url")
