"""The sequence-architectures page in Chromium: the quiz in two sessions at once (every button pressed
twice), the diagram captured, and a link that opens its target page with the preset in the URL."""

from urllib.parse import parse_qs, urlparse

from seqviz.recurrent import architectures as arch
from tests.browser.conftest import main_button, screenshot, still, wait_until_idle
from tests.browser.test_pages import assert_no_exception

NAMES = {p.key: p.name for p in arch.PATTERNS}
TASKS = {t.name: t for t in arch.TASKS}


def click(page, locator) -> None:
    locator.click()
    wait_until_idle(page)
    assert_no_exception(page)


def current_task(page) -> arch.Task:
    heading = page.get_by_text("Task ", exact=False).filter(has_text=" of 10: ").first.inner_text()
    return TASKS[heading.split(": ", 1)[1].strip()]


def score(page) -> str:
    return page.locator("[data-testid=stMetric]", has_text="Score").locator("[data-testid=stMetricValue]").inner_text()


def test_quiz_in_two_sessions_every_button_twice(server_url, browser):
    sessions = [browser.new_context(viewport={"width": 1400, "height": 2600}) for _ in range(2)]
    try:
        pages = [context.new_page() for context in sessions]
        for page, seed in zip(pages, (0, 3)):
            page.goto(f"{server_url}/sequence_architectures?seed={seed}")
            wait_until_idle(page)
            assert_no_exception(page)
            click(page, page.get_by_text("Quiz: hide the answers and test yourself"))
            page.wait_for_selector("text=Task 1 of 10", timeout=60_000)
        firsts = [current_task(page) for page in pages]
        assert [t.key for t in firsts] == [arch.quiz_order(0)[0], arch.quiz_order(3)[0]]
        for page, task, right in zip(pages, firsts, (False, True)):     # one wrong pick, one right
            pick = task.pattern if right else next(k for k in NAMES if k != task.pattern)
            quiz_radio = page.locator("[data-testid=stRadio]", has_text="Which pattern fits it?")
            click(page, quiz_radio.get_by_text(NAMES[pick], exact=True))
        for _ in range(2):
            for page in pages:
                click(page, main_button(page, "Show answer"))
        for page, task, right in zip(pages, firsts, (False, True)):
            body = page.inner_text("body")
            assert ("Right:" if right else "Not quite") in body and task.why in body
            assert score(page) == ("1 / 1" if right else "0 / 1")       # each session its own score, once
        still(pages[0])
        screenshot(pages[0], "page_sequence_architectures_quiz_answer")
        for _ in range(2):
            for page in pages:
                click(page, main_button(page, "Next task"))
        for page, seed in zip(pages, (0, 3)):
            page.wait_for_selector("text=Task 3 of 10", timeout=60_000)
            assert current_task(page).key == arch.quiz_order(seed)[2]
            assert "Not quite" not in page.inner_text("body")
        assert [score(page) for page in pages] == ["0 / 1", "1 / 1"]
    finally:
        for context in sessions:
            context.close()


def test_diagram_is_drawn_and_a_link_opens_its_preset(server_url, page):
    page.goto(f"{server_url}/sequence_architectures?arch_pattern=encoder-decoder&arch_t_in=5&arch_t_out=4")
    wait_until_idle(page)
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
    assert_no_exception(page)
    diagram = page.locator(".js-plotly-plot").first
    assert "5 inputs → 4 outputs, 9 recurrent steps" in page.inner_text("body")   # its title, above it
    assert diagram.locator(".shapelayer path").count() == 2 * 5 + 2 * 4   # one box per input, state, output
    assert page.locator("[data-testid=stMetricValue]").all_inner_texts()[:3] == ["(1, 5, 16)", "(1, 4, 10)", "9"]
    still(page)
    screenshot(page, "page_sequence_architectures_encoder_decoder")
    page.get_by_text("Speech recognition", exact=True).scroll_into_view_if_needed()
    still(page)
    screenshot(page, "page_sequence_architectures_tasks")

    page.goto(f"{server_url}/sequence_architectures?arch_pattern=many-to-many-aligned")
    wait_until_idle(page)
    click(page, page.get_by_role("link", name="See it live: Hidden state vs output"))
    page.wait_for_url("**/hidden_state?**", timeout=60_000)
    wait_until_idle(page)
    assert_no_exception(page)
    assert parse_qs(urlparse(page.url).query)["hid_kind"] == ["RNN (tanh)"]
    assert page.get_by_role("radio", name="RNN (tanh)").is_checked()
    assert page.locator("h1").first.inner_text().strip() == "Hidden state vs output"
