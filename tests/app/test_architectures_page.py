"""The sequence-architectures page under AppTest: the diagram follows the widgets, the real network's
shapes are shown, the quiz scores and moves on (every button pressed twice), and every link's query
parameters open their target page with the preset applied."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

import pytest

from seqviz.recurrent import architectures as arch
from seqviz.ui import registry, tour
from tests.apptest_helpers import assert_clean, chart_title, open_page, widget_keys

PAGE = "pages/sequence_architectures.py"
URL_PATHS = {t.path: t.url_path for t in registry.TOPICS}


def _diagram(at) -> dict:
    return json.loads(at.get("plotly_chart")[0].proto.spec)


def _boxes(at) -> int:
    return sum(s["type"] == "rect" for s in _diagram(at)["layout"]["shapes"])


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _texts(elements) -> str:
    return " ".join(e.value for e in elements)


def _links(at) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
    """(url path, query parameters) of every page link drawn."""
    return {(e.proto.page, tuple(parse_qsl(e.proto.query_string))) for e in at.get("page_link")}


def test_page_runs_clean_with_the_diagram_and_the_real_network():
    at = open_page(PAGE)
    assert_clean(at)
    assert not at.warning
    assert at.radio(key="arch_pattern").value == "many-to-one"
    assert _boxes(at) == 2 * 4 + 1                                     # x_1..x_4, h_1..h_4, y
    assert _metrics(at) == {"Input shape": "(1, 4, 16)", "Output shape": "(1, 10)", "Recurrent steps run": "4"}
    assert at.slider(key="arch_t_out").disabled and not at.slider(key="arch_t_in").disabled
    assert "The RNN ran **4** steps over the input and read out only the last state" in _texts(at.markdown)
    assert len(at.get("page_link")) == 1 + len(arch.TASKS) - 2 + 1      # the pattern's, all but two tasks', the tour's


def test_moving_the_pattern_and_the_lengths_changes_the_diagram_and_the_run():
    at = open_page(PAGE)
    at.slider(key="arch_t_in").set_value(7).run()
    assert_clean(at)
    assert _boxes(at) == 2 * 7 + 1 and _metrics(at)["Recurrent steps run"] == "7"
    assert at.query_params["arch_t_in"] == "7"
    at.radio(key="arch_pattern").set_value("encoder-decoder").run()
    at.slider(key="arch_t_out").set_value(5).run()
    assert_clean(at)
    assert _boxes(at) == 2 * 7 + 2 * 5
    assert "7 inputs → 5 outputs, 12 recurrent steps" in chart_title(_diagram(at))
    metrics = _metrics(at)
    assert (metrics["Output shape"], metrics["Recurrent steps run"]) == ("(1, 5, 10)", "12")
    assert "The encoder ran **7** steps over the input, then the decoder **5** steps" in _texts(at.markdown)
    table = at.table[0].value
    assert list(table["state"]) == ["encoder hₜ", "context", "decoder sₜ"]
    at.radio(key="arch_pattern").set_value("one-to-one").run()
    assert_clean(at)
    assert _boxes(at) == 3 and at.slider(key="arch_t_in").disabled and at.slider(key="arch_t_out").disabled
    assert "no recurrence" in chart_title(_diagram(at))
    assert _metrics(at)["Recurrent steps run"] == "0" and "No loop ran" in _texts(at.markdown)


def test_the_url_sets_the_pattern_and_a_bad_value_says_what_was_kept():
    at = open_page(PAGE, query={"arch_pattern": "one-to-many", "arch_t_out": "6"})
    assert_clean(at)
    assert _boxes(at) == 1 + 2 * 6 and _metrics(at)["Recurrent steps run"] == "6"
    at = open_page(PAGE, query={"arch_pattern": "two-to-two", "arch_t_in": "99"})
    assert_clean(at)
    notices = _texts(at.warning)
    assert "arch_pattern=two-to-two" in notices and "arch_t_in=99" in notices
    assert at.radio(key="arch_pattern").value == "many-to-one" and at.slider(key="arch_t_in").value == 8


def _header(at) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("##### Task"))


def test_quiz_scores_a_wrong_and_a_right_pick_and_every_button_works_twice():
    at = open_page(PAGE)
    at.toggle(key="arch_quiz").set_value(True).run()
    assert_clean(at)
    assert len(at.get("page_link")) == 1 + 1                            # the pattern's and the tour's; no task list
    order = arch.quiz_order(0)
    first = arch.task(order[0])
    assert _header(at) == f"##### Task 1 of 10: {first.name}"
    assert at.radio(key="arch_pick").value is None                      # nothing preselected
    wrong = next(p.key for p in arch.PATTERNS if p.key != first.pattern)
    at.radio(key="arch_pick").set_value(wrong).run()
    at.radio(key="arch_pick").set_value(first.pattern).run()           # changed its mind before showing
    at.button(key="arch_show").click().run()
    assert_clean(at)
    assert any("Right" in s.value for s in at.success) and _metrics(at)["Score"] == "1 / 1"
    assert first.why in _texts(at.markdown)
    at.button(key="arch_show").click().run()                            # again: same answer, scored once
    assert_clean(at)
    assert _metrics(at)["Score"] == "1 / 1" and at.radio(key="arch_pick").disabled

    at.button(key="arch_next").click().run()
    assert_clean(at)
    second = arch.task(order[1])
    assert _header(at) == f"##### Task 2 of 10: {second.name}"
    assert at.radio(key="arch_pick").value is None and not at.radio(key="arch_pick").disabled
    wrong = next(p.key for p in arch.PATTERNS if p.key != second.pattern)
    at.radio(key="arch_pick").set_value(wrong).run()
    at.button(key="arch_show").click().run()
    at.button(key="arch_show").click().run()
    assert_clean(at)
    warnings = _texts(at.warning)
    assert "Not quite" in warnings and arch.pattern(second.pattern).name in warnings
    assert _metrics(at)["Score"] == "1 / 2"

    at.button(key="arch_next").click().run()
    at.button(key="arch_next").click().run()
    assert_clean(at)
    assert _header(at) == f"##### Task 4 of 10: {arch.task(order[3]).name}"
    assert _metrics(at)["Score"] == "1 / 2" and not at.success and not at.warning
    at.toggle(key="arch_quiz").set_value(False).run()
    assert len(at.get("page_link")) == 1 + len(arch.TASKS) - 2 + 1


def test_changing_the_seed_starts_a_new_quiz_in_that_seeds_order():
    at = open_page(PAGE)
    at.toggle(key="arch_quiz").set_value(True).run()
    at.button(key="arch_next").click().run()
    at.number_input(key="seed").set_value(5).run()
    assert_clean(at)
    assert _header(at) == f"##### Task 1 of 10: {arch.task(arch.quiz_order(5)[0]).name}"
    assert _metrics(at)["Score"] == "0 / 0"


def _all_links() -> set[tuple[str, str]]:
    at = open_page(PAGE)
    links = _links(at)
    for pattern in arch.PATTERNS:
        at.radio(key="arch_pattern").set_value(pattern.key).run()
        links |= _links(at)
    return links


def _url_keys(at) -> set[str]:
    """Widget keys on the page, and the keys of tabs bound to the URL."""
    def walk(node):
        yield node
        for child in getattr(node, "children", {}).values():
            yield from walk(child)

    tabs = {n.proto.tab_container.query_param_key for n in walk(at._tree) if getattr(n, "type", "") == "tab_container"}
    return {key for _, key in widget_keys(at)} | tabs


def _as_url(value) -> str:
    return ("1" if value else "0") if isinstance(value, bool) else str(value)


LINKS = sorted({(e.page, e.query) for e in [t.example for t in arch.TASKS] + [p.example for p in arch.PATTERNS]
                if e.page})


def test_the_page_shows_a_link_for_every_example_with_its_preset():
    step = tour.next_after(PAGE)                                       # and the tour's next step, below the page
    assert _all_links() == {(URL_PATHS[page], query) for page, query in LINKS} | {
        (URL_PATHS[step.path], (("preset", step.preset),))}


@pytest.mark.parametrize("page,query", LINKS, ids=[f"{p.split('/')[-1][:-3]}-{dict(q)}" for p, q in LINKS])
def test_every_preset_opens_its_target_page_clean_with_the_preset_applied(page, query):
    preset = dict(query)
    at = open_page(page, query=preset)
    assert_clean(at)
    assert "URL parameter" not in _texts(at.warning)
    keys = _url_keys(at)
    for key, value in preset.items():
        assert key in keys, (key, sorted(keys))
        assert _as_url(at.session_state[key]) == value, key

