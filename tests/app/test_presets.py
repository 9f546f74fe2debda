"""Every preset of every page opens from its link, and the picker applies a preset mid-session."""

import pytest
import streamlit as st

from seqviz.ui import presets, registry
from seqviz.ui.preset_data import PRESETS
from tests.apptest_helpers import assert_clean, open_page

CASES = [(path, preset) for path, found in PRESETS.items() for preset in found]


@pytest.fixture(scope="module", autouse=True)
def _one_cache_for_the_module():
    """The pages' caches are shared by all the presets here (a real server shares them too)."""
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture(autouse=True)
def _fresh_streamlit_caches():
    """Overrides the per-test clearing of tests/conftest.py for this module."""
    yield


def url_notices(at):
    return [w.value for w in at.warning if "URL parameter" in w.value]


def test_every_topic_page_has_two_to_four_presets():
    assert sorted(PRESETS) == sorted(t.path for t in registry.TOPICS)
    for path, found in PRESETS.items():
        assert 2 <= len(found) <= 4, path
        assert len({p.name.lower() for p in found}) == len(found), path


@pytest.mark.parametrize("path,preset", CASES, ids=[f"{p.split('/')[-1][:-3]}:{s.name}" for p, s in CASES])
def test_a_preset_link_opens_the_page_with_every_value_of_the_preset(path, preset):
    at = open_page(path, query={"preset": preset.name})
    assert_clean(at)
    assert not url_notices(at), url_notices(at)
    for key, value in preset.values:
        assert at.session_state[key] == value, (key, at.session_state[key], value)
    picker = at.selectbox(key=presets.widget_key(path))
    assert picker.value == preset.name
    assert at.query_params.get("preset") in (preset.name, [preset.name])
    assert any(preset.description in c.value for c in at.caption)


def test_explicit_values_in_the_url_win_over_the_presets():
    at = open_page("pages/softmax_flattening.py", query={"preset": "Flat at large D", "c": "3"})
    assert_clean(at)
    assert at.session_state["D"] == 100_000 and at.session_state["c"] == 3.0


def test_an_unknown_preset_in_the_url_is_said_and_changes_nothing():
    at = open_page("pages/identity_attention.py", query={"preset": "**nope**"})
    assert_clean(at)
    notices = url_notices(at)
    assert len(notices) == 1 and "not a preset of this page" in notices[0] and "Large c copies V" in notices[0]
    assert at.session_state["id_c"] == 5.0 and at.session_state["id_n"] == 4
    assert at.selectbox(key=presets.widget_key("pages/identity_attention.py")).value is None


def test_picking_presets_mid_session_applies_them_and_leaves_other_keys_alone():
    path = "pages/attention_playground.py"
    at = open_page(path)
    at.slider(key="att_heads").set_value(1).run()
    picker = presets.widget_key(path)
    at.selectbox(key=picker).set_value("Wrong-axis softmax").run()
    assert_clean(at)
    assert at.toggle(key="att_wrong_axis").value is True and at.toggle(key="att_softmax").value is True
    assert at.slider(key="att_heads").value == 1            # not named by the preset: kept
    assert at.query_params.get("preset") in ("Wrong-axis softmax", ["Wrong-axis softmax"])
    assert any("rows now sum" in w.value for w in at.warning)
    at.selectbox(key=picker).set_value("Without the softmax").run()
    assert at.toggle(key="att_softmax").value is False and at.toggle(key="att_wrong_axis").value is False
    at.toggle(key="att_softmax").set_value(True).run()      # moved away from the preset: no longer claimed
    assert at.selectbox(key=picker).value is None
    assert "preset" not in at.query_params
    assert_clean(at)
