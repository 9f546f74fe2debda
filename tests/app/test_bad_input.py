"""Real pages opened with arbitrary garbage in their URLs (hypothesis, a few examples each, to
keep the suite fast): no exception element, every notice on one line, and every widget ends
within its range, on its steps, or on one of its options; a rerun changes none of that."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.apptest_helpers import open_page
from tests.unit.test_bad_input import URL_TEXT

COMMON = ["seed", "device", "present", "preset", "unknown_key"]
PAGES = {
    "pages/attention_vs_conv.py": ["conv_n", "conv_layers", "conv_max_side", "conv_channels", "conv_kernel",
                                   "conv_repeats", "conv_budget"],
    "pages/attention_playground.py": ["att_source", "att_nq", "att_nkv", "att_dk", "att_dv", "att_softmax",
                                      "att_wrong_axis", "att_heads", "Q", "K", "V"],
    "pages/softmax_flattening.py": ["D", "c", "p", "dk"],
}
TABLE_TEXT = st.lists(st.lists(st.sampled_from(["1", "0", "-2.5", "x", "", "nan", "1e9", " 3 "]), min_size=1,
                               max_size=5), min_size=1, max_size=18).map(lambda rows: ";".join(map(",".join, rows)))


def _on_step(value: float, low: float, step: float) -> bool:
    steps = (value - low) / step
    return abs(steps - round(steps)) < 1e-6


def check_widgets(at) -> None:
    """Every widget of the page and the sidebar within its range, steps or options."""
    for slider in at.slider:
        assert slider.min <= slider.value <= slider.max, (slider.key, slider.value)
        if slider.step:
            assert _on_step(slider.value, slider.min, slider.step), (slider.key, slider.value)
    for box in at.number_input:
        assert box.min <= box.value <= box.max and float(box.value).is_integer(), (box.key, box.value)
    for slider in at.select_slider:
        assert f"{slider.value:,}" in slider.options, (slider.key, slider.value)
    for widget in [*at.radio, *at.selectbox]:
        assert widget.value in widget.options or (widget.value is None and widget.key.startswith("preset")), \
            (widget.key, widget.value)
    for toggle in at.toggle:
        assert isinstance(toggle.value, bool), toggle.key


def check_page(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert all("\n" not in w.value for w in at.warning), [w.value for w in at.warning]
    check_widgets(at)


@pytest.mark.parametrize("page", sorted(PAGES))
def test_a_page_opened_with_a_garbage_url_keeps_every_widget_in_range(page):
    keys = PAGES[page] + COMMON

    @settings(max_examples=12, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.dictionaries(st.sampled_from(keys), st.one_of(URL_TEXT, TABLE_TEXT), min_size=1, max_size=len(keys)))
    def opened_with(query):
        at = open_page(page, query=query)
        check_page(at)
        at.run()                                                # a rerun keeps it so
        check_page(at)

    opened_with()


def test_a_video_too_short_once_its_repeated_frames_are_dropped_says_so_and_how_to_keep_them(tmp_path):
    """3 distinct frames, each written twice: 6 frames, 3 once the repeats are dropped (the default),
    one fewer than the model needs; the error says why and names the toggle that keeps them."""
    from tests.app.test_predictive_vit import _doubled_mp4_bytes

    at = open_page("pages/predictive_vit.py", query={"vit_source": "Upload"})
    at.file_uploader(key="vit_upload").upload("doubled.mp4", _doubled_mp4_bytes(tmp_path, distinct=3),
                                              "video/mp4").run()
    assert not at.exception
    (error,) = [e.value for e in at.error]
    assert ("has 3 frame(s) once the 3 that repeat the frame before are dropped (turn off Drop repeated frames "
            "to keep them); the model reads 3 and predicts the next, so it needs at least 4. Still showing") in error
    assert ".." not in error
    at.toggle(key="vit_dedupe").set_value(False).run()
    assert not at.exception and not at.error
    assert len(at.session_state["_vit_last_upload"].frames) == 6
