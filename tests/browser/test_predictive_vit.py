"""The predictive ViT page in Chromium: every tab at 1920x1080, a real uploaded video file,
and live training."""

import re

import cv2
import numpy as np

from tests.browser.conftest import screenshot, wait_until_idle
from tests.browser.test_pages import assert_no_exception


def _write_clip(path, frames=24):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 12, (96, 72))
    for t in range(frames):
        image = np.full((72, 96, 3), (60, 40, 20), np.uint8)
        cv2.rectangle(image, (4 * t % 80, 20), (4 * t % 80 + 14, 34), (40, 200, 255), -1)
        writer.write(image)
    writer.release()
    return path


TABS = ["Prediction", "Rollout", "Where it fails", "Attention", "Ablations", "Train your own"]
SCREENS = 2.35         # no tab may need more than about two 1080-pixel screens (with the preset picker
                       # at the top and the next step's link at the bottom)...
SCREENS_ABLATIONS = 2.9   # ... but the ablations: a chart, a table and an example whose panels wrap, four to a row


def _page_height(page) -> int:
    """The height of the app's scrolling content, in CSS pixels."""
    return page.evaluate("Math.max(...[...document.querySelectorAll('[data-testid=stMain], "
                         "[data-testid=stAppScrollToBottomContainer], section.main')]"
                         ".map(e => e.scrollHeight), document.documentElement.scrollHeight)")


def test_every_tab_opens_from_its_button_and_fits_two_screens(server_url, browser):
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    try:
        page.goto(f"{server_url}/predictive_vit")
        wait_until_idle(page)
        heights = {}
        for tab in TABS:
            page.get_by_role("tab", name=tab).click()
            wait_until_idle(page)
            assert_no_exception(page)
            assert page.get_by_role("tab", name=tab).get_attribute("aria-selected") == "true"
            if tab != TABS[0]:
                page.wait_for_url(re.compile(r"vit_tab="), timeout=30_000)
            heights[tab] = _page_height(page)
            screenshot(page, "predictive_vit_tab_" + tab.lower().replace(" ", "_"))
        assert all(height <= (SCREENS_ABLATIONS if tab == "Ablations" else SCREENS) * 1080
                   for tab, height in heights.items()), str(heights)
        page.reload()                                       # the URL reopens the last tab
        wait_until_idle(page)
        assert page.get_by_role("tab", name=TABS[-1]).get_attribute("aria-selected") == "true"
        assert "Estimated " in page.inner_text("body")
    finally:
        context.close()


def test_uploading_a_real_video_file_shows_it_and_its_prediction(server_url, page, tmp_path):
    clip = _write_clip(tmp_path / "moving_box.mp4")
    page.goto(f"{server_url}/predictive_vit?vit_source=Upload")
    wait_until_idle(page)
    page.locator("[data-testid=stFileUploader] input[type=file]").set_input_files(str(clip))
    page.wait_for_function("document.body.innerText.includes('upload moving_box.mp4')", timeout=120_000)
    wait_until_idle(page)
    assert_no_exception(page)
    assert page.locator("[data-testid=stAlert]").filter(has_text="Cannot use").count() == 0
    screenshot(page, "predictive_vit_upload")


def _own_steps(page) -> int | None:
    """The step count in the "Your model: ..." caption, or None before any training."""
    found = re.search(r"Your model \(training run \d+ in this session, on [^)]*\): .*?, (\d+) steps on CPU",
                      page.inner_text("body"))
    return int(found.group(1)) if found else None


def _stop_button(page):
    """The page's own Stop (while a script runs, Streamlit's header has one too)."""
    return page.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Stop")


def test_training_live_in_the_browser(server_url, page):
    page.goto(f"{server_url}/predictive_vit?vit_steps=30&vit_tab=Train+your+own")
    wait_until_idle(page)
    for run in (1, 2):                                      # train, then stop, twice
        page.get_by_role("button", name="Train on this video").click()
        page.wait_for_function(f"document.body.innerText.includes('training run {run} in this session,')",
                               timeout=120_000)
        wait_until_idle(page)
        assert_no_exception(page)
        assert re.search(r"measured while it trained; estimated [\d.,]+ s for 30 steps", page.inner_text("body"))
        page.get_by_role("tab", name="Prediction").click()  # the model now predicts there
        page.wait_for_function("document.body.innerText.includes('Mine (trained here) model, frame')",
                               timeout=60_000)
        page.get_by_role("tab", name="Train your own").click()
        wait_until_idle(page)
        _stop_button(page).click()      # nothing running: the model stays
        wait_until_idle(page)
        assert_no_exception(page)
        assert _own_steps(page) == 30
    screenshot(page, "predictive_vit_trained")


def test_stopping_a_long_training_keeps_the_steps_so_far(server_url, page):
    page.goto(f"{server_url}/predictive_vit?vit_steps=2000&vit_tab=Train+your+own")
    wait_until_idle(page)
    for run in (1, 2):                                      # train, stop while running, twice
        page.get_by_role("button", name="Train on this video").click()
        page.wait_for_function("/step [\\d,]+\\/2,000/.test(document.body.innerText)", timeout=120_000)
        page.wait_for_timeout(1500)
        _stop_button(page).click()
        wait_until_idle(page)
        assert_no_exception(page)
        assert f"training run {run} in this session" in page.inner_text("body")
        steps = _own_steps(page)
        assert steps is not None and 0 < steps < 2000
    screenshot(page, "predictive_vit_stopped")


def test_moving_around_the_page_while_training_does_not_end_the_training(server_url, page):
    """The page reruns (another tab, a widget) while the training thread works; the thread calls no
    streamlit, so no rerun can interrupt it: it reaches its last step."""
    page.goto(f"{server_url}/predictive_vit?vit_steps=1000&vit_width=16&vit_depth=1&vit_tab=Train+your+own")
    wait_until_idle(page)
    page.get_by_role("button", name="Train on this video").click()
    page.wait_for_function("/step [\\d,]+\\/1,000/.test(document.body.innerText)", timeout=120_000)
    for tab in ("Prediction", "Rollout", "Train your own"):
        page.get_by_role("tab", name=tab).click()
        page.wait_for_timeout(700)
    page.wait_for_function("document.body.innerText.includes('training run 1 in this session,')", timeout=300_000)
    wait_until_idle(page)
    assert_no_exception(page)
    assert _own_steps(page) == 1000
    assert "stopped at step" not in page.inner_text("body")
