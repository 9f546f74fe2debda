"""Every page under Streamlit's AppTest: it runs clean, and every widget moves to its ends."""

import pytest

from seqviz.ui import registry
from tests.apptest_helpers import assert_clean, move_every_widget, open_page
from tests.conftest import ROOT

ALL_PAGES = [registry.HOME.path] + [t.path for t in registry.TOPICS]


def test_every_file_in_pages_is_in_the_navigation():
    on_disk = sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("pages/*.py"))
    assert on_disk == sorted(ALL_PAGES)
    for topic in registry.TOPICS:
        assert topic.section in registry.SECTIONS


@pytest.mark.parametrize("page", ALL_PAGES)
def test_page_runs_clean_and_survives_every_widget_at_its_ends(page):
    at = open_page(page)
    assert_clean(at)
    assert len(at.main.children) > 0
    moves = move_every_widget(at)
    assert moves >= 4  # at least the sidebar's device and seed moved


def test_home_lists_every_topic_and_the_compute_status():
    at = open_page()
    assert_clean(at)
    links = [e.proto.page for e in at.get("page_link")]
    for topic in registry.TOPICS:
        assert any(topic.path in link or topic.url_path in link for link in links), links
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Device in use"] == "CPU"
    assert metrics["torch"].startswith("2.")


def test_sidebar_seed_and_device_persist_across_pages():
    at = open_page()
    at.number_input(key="seed").set_value(1234).run()
    at.radio(key="device").set_value("CPU").run()
    at.switch_page("pages/softmax_flattening.py").run()
    assert_clean(at)
    assert at.number_input(key="seed").value == 1234
    assert at.radio(key="device").value == "CPU"
    assert at.query_params.get("seed") in ("1234", ["1234"])


def test_gpu_choice_without_gpu_falls_back_with_a_notice():
    at = open_page()
    at.radio(key="device").set_value("GPU").run()
    assert_clean(at)
    assert at.radio(key="device").value == "Auto"
    assert any("No GPU here" in toast.value for toast in at.toast)


@pytest.mark.parametrize("query,key,expected,words", [
    ({"D": "-5"}, "D", 2, "clamped"),
    ({"D": "abc"}, "D", 10, "not a number"),
    ({"D": "7"}, "D", 7, None),
    ({"D": "999999999"}, "D", 100000, "clamped"),
    ({"D": "8"}, "D", 7, "nearest"),
    ({"c": "nan"}, "c", 1.0, "finite"),
    ({"c": "1e308"}, "c", 20.0, "clamped"),
    ({"dk": "0"}, "dk", 1, "clamped"),
])
def test_garbage_url_parameters_on_the_softmax_page(query, key, expected, words):
    at = open_page("pages/softmax_flattening.py", query=query)
    at = at.switch_page("pages/softmax_flattening.py")
    at.query_params.update(query)
    at.session_state  # noqa: B018 - state is per AppTest, the URL seeds it on first run
    at.run()
    assert_clean(at)
    widget = at.select_slider(key=key) if key in ("D", "dk") else at.slider(key=key)
    assert widget.value == expected
    texts = " ".join(w.value for w in at.warning)
    if words:
        assert words in texts, texts
    else:
        assert "URL parameter" not in texts


@pytest.mark.parametrize("query,words", [
    ({"device": "quantum"}, "not one of"),
    ({"seed": "1e999"}, "finite"),
    ({"seed": "-3"}, "clamped"),
    ({"seed": "2.5"}, "whole number"),
])
def test_garbage_sidebar_parameters(query, words):
    at = open_page(query=query)
    assert_clean(at)
    assert at.radio(key="device").value in ("Auto", "CPU")
    assert 0 <= at.number_input(key="seed").value < 2**31
    texts = " ".join(w.value for w in at.sidebar.warning)
    assert words in texts, texts


def test_softmax_page_numbers_match_the_closed_form():
    at = open_page("pages/softmax_flattening.py", query={"D": "1000"})
    at.switch_page("pages/softmax_flattening.py").run()
    assert_clean(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[r"$p_\text{hot}$ (closed form)"] == "0.00271362"
    assert metrics[r"$p_\text{hot}$ (torch)"] == "0.00271362"
    assert float(metrics["largest gap, closed vs torch"]) < 1e-6
    charts = at.get("plotly_chart")
    assert len(charts) == 4
    assert len(at.get("download_button")) == 3 * 4  # PNG, SVG and CSV of each chart
    at.select_slider(key="D").set_value(100000).run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[r"$p_\text{hot}$ (closed form)"] == "2.71824e-05"
    assert r"$c \ge 13.710$" in " ".join(m.value for m in at.markdown)


def test_navigation_refuses_pages_missing_or_in_the_wrong_section():
    with pytest.raises(ValueError, match="every page once"):
        registry.sections(("", "pages/home.py"))
    with pytest.raises(ValueError, match="not a registered page of section 'Attention'"):
        registry.sections(("Attention", "pages/home.py"))
    with pytest.raises(ValueError, match="not a registered page"):
        registry.sections(("", "pages/nowhere.py"))
