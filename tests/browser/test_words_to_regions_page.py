"""The words-to-regions page in Chromium: two sessions at once drawing random sentences and training
both models (each twice), a sentence outside the grammar, a one-word change, Stop during training,
and the page captured."""

import re

from seqviz.attention import scenes
from seqviz.core import rng
from tests.browser.conftest import alert_text, main_button, screenshot, still, wait_until_idle
from tests.browser.test_pages import assert_no_exception


def sentence_box(page):
    return page.get_by_label("Sentence (the grammar", exact=False)


def press(page, name: str) -> None:
    main_button(page, name).click()
    wait_until_idle(page)
    assert_no_exception(page)


def test_two_sessions_press_every_button_twice(server_url, browser):
    sessions = [browser.new_context(viewport={"width": 1400, "height": 2600}) for _ in range(2)]
    try:
        pages = [context.new_page() for context in sessions]
        for page, seed in zip(pages, (0, 5)):
            page.goto(f"{server_url}/words_to_regions?seed={seed}&wr_live_steps=100")
            wait_until_idle(page)
            assert_no_exception(page)
            page.wait_for_selector(".js-plotly-plot", timeout=60_000)
        for page in pages:
            press(page, "Example 3")
            assert sentence_box(page).input_value() == scenes.EXAMPLES[2]
        for _ in range(2):
            for page in pages:
                press(page, "Random sentence")
        for page, seed in zip(pages, (0, 5)):       # each session draws from its own seed, twice
            expected = scenes.sentence(scenes.random_scenes(2, rng.numpy_generator(seed))[-1])
            assert sentence_box(page).input_value() == expected
            assert "Measured now" in page.inner_text("body")
        for trainers in (pages, pages[:1]):         # both sessions train at once, then the first again
            for page, seed in zip(trainers, (0, 5)):
                main_button(page, f"Train both models here (100 steps each, seed {seed})").click()
            for page in trainers:
                page.wait_for_timeout(500)
                wait_until_idle(page)
                assert_no_exception(page)
        for page, seed, runs in zip(pages, (0, 5), (2, 1)):
            body = page.inner_text("body")
            assert f"Run {runs} finished 100 steps" in body
            assert f"Trained here from seed {seed} for 100 steps" in body
        still(pages[1])
        screenshot(pages[1], "page_words_to_regions_trained_here")
    finally:
        for context in sessions:
            context.close()


def test_bad_sentence_word_change_and_stop(server_url, page):
    page.goto(f"{server_url}/words_to_regions?wr_live_steps=2000")
    wait_until_idle(page)
    assert_no_exception(page)
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)
    body = page.inner_text("body")
    assert "rose most in the top right quadrant" in body          # the default change: left -> right
    still(page)
    screenshot(page, "page_words_to_regions_default")
    box = sentence_box(page)
    box.fill("a purple circle top left")
    box.press("Enter")
    wait_until_idle(page)
    assert_no_exception(page)
    alerts = alert_text(page)
    assert "does not know 'purple'" in alerts and "red, green, blue, yellow" in alerts
    box.fill("a red circle top left and a blue square bottom right")
    box.press("Enter")
    wait_until_idle(page)
    assert "does not know" not in alert_text(page)
    page.get_by_text("Where does each quadrant look, over the whole test set?").scroll_into_view_if_needed()
    page.get_by_text("Why? The explanation").nth(0).click()
    wait_until_idle(page)
    assert "five words of its own object" in page.inner_text("body")
    still(page)
    screenshot(page, "page_words_to_regions_ablation")
    main_button(page, "Train both models here (2,000 steps each, seed 0)").click()
    page.wait_for_selector("text=Training now: four-object test sentences drawn right", timeout=60_000)
    for _ in range(2):
        main_button(page, "Stop").click()
        wait_until_idle(page)
        assert_no_exception(page)
    assert "stopped at step" in alert_text(page)
    body = page.inner_text("body")
    assert re.search(r"partial: stopped at step [\d,]+ of 2,000, the models kept as they are", body)
    assert "Trained here, partial (stopped at step" in body
