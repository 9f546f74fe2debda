"""In Chromium: a tour step on Home opens its page in the step's preset, and the picker applies others."""

from urllib.parse import parse_qs, urlparse

from seqviz.ui import tour
from tests.browser.conftest import screenshot, wait_until_idle


def query(page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def test_a_tour_link_opens_its_preset_and_the_picker_applies_two_more(server_url, page):
    page.goto(f"{server_url}/")
    wait_until_idle(page)
    step = tour.TOUR[1]
    page.get_by_role("link", name=f"2. {step.topic.title} ({step.minutes} min)").click()
    page.wait_for_url(f"**/{step.topic.url_path}**", timeout=30_000)
    wait_until_idle(page)
    assert page.locator("[data-testid=stException]").count() == 0
    assert query(page)["preset"] == [step.preset]
    assert page.locator("[data-testid=stCaptionContainer]").filter(has_text=step.preset).count() == 1
    picker = page.locator("[data-testid=stSelectbox]").filter(has_text="Preset").first
    for name, key, value in (("Untrained: the token fades", "hid_source", "untrained"),
                             ("Long wait, tanh RNN", "hid_len", "40")):
        picker.locator("input").click()
        page.get_by_role("option", name=name).click()
        page.wait_for_url(f"**{key}={value}**", timeout=30_000)
        wait_until_idle(page)
        assert page.locator("[data-testid=stException]").count() == 0
        assert query(page)["preset"] == [name]
        assert page.locator("[data-testid=stCaptionContainer]").filter(has_text=name).count() == 1
    assert page.get_by_role("link", name=f"Next in the tour: 3. {tour.TOUR[2].topic.title}").count() == 1
    screenshot(page, "presets_hidden_state")
