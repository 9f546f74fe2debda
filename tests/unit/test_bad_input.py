"""Property tests of every parser at the app's edge, fed arbitrary text: the URL-bound widgets
(seqviz.ui.params), the URL tables (seqviz.ui.tables), the layer lists of the attention-versus-
convolution page (seqviz.attention.conv) and the preset names (seqviz.ui.presets).

The properties: a parser never raises anything but its documented error (params.BadParam,
ValueError) or, for a widget, keeps a value with a visible notice that quotes the URL only as
a literal; what it returns is always within the widget's range, steps or choices; and a valid
value survives the round trip through the URL (written, read back, the same, no notice).

The widget readers run against a stand-in for streamlit (session state, query parameters and
a container that records its notices), so hypothesis can try hundreds of values a second;
tests/app/test_bad_input.py runs the real pages with garbage URLs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any
from unittest import mock

from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from seqviz.attention import conv
from seqviz.ui import params, presets, tables
from seqviz.ui import sidebar as ui_sidebar
from seqviz.ui.preset_data import PRESETS

# ------------------------------------------------------------------ arbitrary URL text

SPECIAL = ["", " ", "nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e309", "-1e309", "1e-400", "0x10", "1_000",
           "١٢", "٣.٥", "1,5", "1.5.2", "++1", " 7 ", "\t3\n", "\x00", "1\x00", "true", "ON", " yes ", "0", "-0",
           "0.0", "1e3", "3.", ".5", "9" * 400, "-" + "9" * 400, "`", "```", "$x^2$", "# heading", "<b>x</b>",
           "[link](http://h/a)", "\u2028", "\u202e1", "😀", "a" * 5000]
URL_TEXT = st.one_of(
    st.sampled_from(SPECIAL),
    st.text(max_size=60),
    st.text(alphabet="0123456789.-+eE_ ,;", max_size=30),
    st.floats().map(repr),
    st.floats(-1e4, 1e4).map(lambda x: f"{x:.3f}"),
    st.integers(-10**20, 10**20).map(str),
)


class Recorder:
    """A container that draws a widget as streamlit would (its session-state value) and keeps
    the notices (warnings) the kit shows."""

    def __init__(self, state: dict) -> None:
        self.state, self.notices = state, []

    def warning(self, text: str, **_: Any) -> None:
        self.notices.append(text)

    def _widget(self, *_: Any, key: str, **__: Any) -> Any:
        return self.state[key]

    slider = number_input = select_slider = radio = selectbox = segmented_control = toggle = text_input = _widget


@contextmanager
def session(query: dict[str, str]):
    """A fresh session whose URL holds `query`: yields the recording container and the URL."""
    state: dict = {}
    fake = SimpleNamespace(session_state=state, query_params=dict(query))
    with mock.patch.object(params, "st", fake):
        yield Recorder(state), fake.query_params


def first_run(draw: Callable[[Recorder], Any], key: str, raw: str | None) -> tuple[Any, list[str], dict]:
    """Draw the widget on a session's first run with `raw` in the URL: (value, notices, URL after)."""
    with session({} if raw is None else {key: raw}) as (container, url):
        value = draw(container)
        return value, container.notices, url


def check_notice(notices: list[str], key: str, raw: str) -> None:
    """At most one notice, on one line, quoting the URL's value only as a literal code span."""
    assert len(notices) <= 1, notices
    for notice in notices:
        assert notice.startswith(f"URL parameter {params.literal(f'{key}={raw}')} "), notice
        assert "\n" not in notice and "\r" not in notice


def check_round_trip(draw: Callable[[Recorder], Any], key: str, value: Any, url: dict) -> None:
    """The URL the widget wrote reopens it at the same value, with no notice."""
    again, notices, url_again = first_run(draw, key, url.get(key))
    assert again == value and type(again) is type(value) and notices == [], (url.get(key), again, notices)
    assert url_again == url


# ------------------------------------------------------------------ widget configurations


@st.composite
def int_sliders(draw):
    low = draw(st.integers(-50, 50))
    step = draw(st.sampled_from([None, 1, 2, 3, 5]))
    high = low + draw(st.integers(1, 300))                       # the last step may fall short of it
    default = low + draw(st.integers(0, (high - low) // (step or 1))) * (step or 1)   # on a step, as pages have
    return low, high, default, step


@st.composite
def float_sliders(draw):
    step = draw(st.sampled_from([None, 0.01, 0.05, 0.1, 0.25, 0.5]))
    grid = step or 0.01
    low = round(draw(st.integers(-400, 400)) * grid, 10)
    high = round(low + draw(st.integers(1, 400)) * grid, 10)
    default = round(low + draw(st.integers(0, round((high - low) / grid))) * grid, 10)
    return low, high, default, step


# The pages' own sliders of both kinds (pages/*.py, seqviz/ui/**): (low, high, default, step).
PAGE_SLIDERS = [(1, 9, 3, 2), (3, 15, 5, None), (1, 8, 4, None), (0, 58, 5, None), (-5.0, 20.0, 1.0, 0.1),
                (0.5, 0.99, 0.9, 0.01), (0.0, 40.0, 5.0, 0.5), (0.25, 4.0, 1.0, 0.25), (0.5, 1.5, 1.0, 0.05),
                (0.0, 5.0, 1.0, 0.5)]
LOG_OPTIONS = [[5, 10, 20, 40, 80, 160, 320, 640, 1000], [1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1],
               [0.01, 0.1, 1.0, 10.0], [1, 4, 16, 64, 256, 1024, 4096, 16384], [16, 32, 64, 128, 256, 512],
               [2, 4, 8, 16], [1, 2, 4, 8]]
CHOICES = [["Auto", "CPU", "GPU"], ["Synthetic game", "Upload"], ["image patches", "random vectors"],
           ["8 × 8", "4 × 4"], ["learned", "sinusoidal", "none"], ["a"], ["0", "1", "2"]]


def on_grid(value: float, low: float, step: float) -> bool:
    steps = (value - low) / step
    return abs(steps - round(steps)) < 1e-6


@settings(max_examples=400, deadline=None)
@given(st.one_of(int_sliders(), float_sliders(), st.sampled_from(PAGE_SLIDERS)), URL_TEXT)
@example((1, 9, 3, 2), "4").via("the conv page's kernel, between two steps")
@example((0.5, 0.99, 0.9, 0.01), "0.905").via("a value halfway between two steps")
def test_a_slider_ends_on_its_range_and_steps_whatever_the_url_says(config, raw):
    low, high, default, step = config
    integer = all(isinstance(v, int) for v in (low, high, default))

    def draw(container):
        return params.slider("x", low, high, default, key="x", step=step, container=container)

    value, notices, url = first_run(draw, "x", raw)
    assert low <= value <= high and isinstance(value, int if integer else float)
    assert on_grid(value, low, step or (1 if integer else 0.01)), value
    check_notice(notices, "x", raw)
    check_round_trip(draw, "x", value, url)


@settings(max_examples=200, deadline=None)
@given(st.one_of(int_sliders(), float_sliders(), st.sampled_from(PAGE_SLIDERS)), st.data())
def test_every_step_of_a_slider_survives_the_url(config, data):
    low, high, default, step = config
    grid = step or (1 if isinstance(low, int) else 0.01)
    count = math.floor((high - low) / grid + 1e-9)
    index = data.draw(st.integers(0, count))
    chosen = low + index * grid if isinstance(low, int) else round(low + index * grid, 10)

    def draw(container):
        return params.slider("x", low, high, default, key="x", step=step, container=container)

    value, notices, _ = first_run(draw, "x", str(chosen))
    assert value == chosen and notices == []


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.tuples(st.integers(-100, 100), st.integers(0, 10**6)).map(lambda t: (t[0], t[0] + t[1])),
                 st.just((0, ui_sidebar.MAX_SEED)), st.just((1, 4096))), URL_TEXT, st.data())
def test_a_whole_number_box_ends_in_range_whatever_the_url_says(bounds, raw, data):
    low, high = bounds
    default = data.draw(st.integers(low, high))

    def draw(container):
        return params.number_input("n", low, high, default, key="n", container=container)

    value, notices, url = first_run(draw, "n", raw)
    assert low <= value <= high and type(value) is int
    check_notice(notices, "n", raw)
    check_round_trip(draw, "n", value, url)
    chosen = data.draw(st.integers(low, high))                       # every whole number in range survives
    assert first_run(draw, "n", str(chosen))[:2] == (chosen, [])


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(LOG_OPTIONS), URL_TEXT, st.data())
def test_a_log_slider_ends_on_one_of_its_options_whatever_the_url_says(options, raw, data):
    default = data.draw(st.sampled_from(options))

    def draw(container):
        return params.log_select_slider("s", options, default, key="s", container=container)

    value, notices, url = first_run(draw, "s", raw)
    assert value in options
    check_notice(notices, "s", raw)
    check_round_trip(draw, "s", value, url)
    chosen = data.draw(st.sampled_from(options))
    assert first_run(draw, "s", str(chosen))[:2] == (chosen, [])


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(CHOICES), URL_TEXT, st.data())
def test_a_choice_ends_on_an_allowed_option_whatever_the_url_says(options, raw, data):
    default = data.draw(st.sampled_from(options))
    refused = data.draw(st.sampled_from([None, *[o for o in options if o != default]]))

    def draw(container):
        return params.choice("c", options, default, key="c", container=container,
                             refuse=lambda option: "not here" if option == refused else None)

    value, notices, url = first_run(draw, "c", raw)
    assert value in options and value != refused
    check_notice(notices, "c", raw)
    check_round_trip(draw, "c", value, url)
    chosen = data.draw(st.sampled_from(options))
    assume(chosen != refused)
    for spelling in (chosen, chosen.upper(), f"  {chosen.lower()} "):       # case and spaces do not matter
        assert first_run(draw, "c", spelling)[:2] == (chosen, [])


@settings(max_examples=300, deadline=None)
@given(st.booleans(), URL_TEXT)
def test_a_toggle_ends_on_or_off_whatever_the_url_says(default, raw):
    def draw(container):
        return params.toggle("t", default, key="t", container=container)

    value, notices, url = first_run(draw, "t", raw)
    assert type(value) is bool
    check_notice(notices, "t", raw)
    check_round_trip(draw, "t", value, url)
    for on in (True, False):
        assert first_run(draw, "t", "1" if on else "0")[:2] == (on, [])


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 200), URL_TEXT)
def test_a_text_box_keeps_at_most_its_length_whatever_the_url_says(max_chars, raw):
    def draw(container):
        return params.text("w", "a red square", key="w", max_chars=max_chars, container=container)

    value, notices, url = first_run(draw, "w", raw)
    assert isinstance(value, str) and (len(value) <= max_chars or value == "a red square")
    check_notice(notices, "w", raw)
    check_round_trip(draw, "w", value, url)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.sampled_from(SPECIAL), st.text(max_size=200)), st.integers(0, 2**31 - 1))
def test_a_seed_from_the_url_is_a_whole_number_from_0_to_max_seed(raw, seed):
    def draw(container):
        return params.number_input("Random seed", 0, ui_sidebar.MAX_SEED, 0, key="seed", container=container)

    value, notices, _ = first_run(draw, "seed", raw)
    assert type(value) is int and 0 <= value <= ui_sidebar.MAX_SEED
    check_notice(notices, "seed", raw)
    assert first_run(draw, "seed", str(seed))[:2] == (seed, [])


def test_the_stand_in_reads_as_the_real_kit_does():
    """The stand-in session gives the values and notices tests/app/test_params.py sees on a real page."""
    value, notices, url = first_run(lambda c: params.slider("k", 1, 9, 3, step=2, key="k", container=c), "k", "4")
    assert value == 5 and "is not on the slider's steps (1, 3, …); using 5" in notices[0] and url == {"k": "5"}
    value, notices, url = first_run(lambda c: params.toggle("on", False, key="on", container=c), "on", "maybe")
    assert value is False and "is not on/off" in notices[0] and url == {}


# ------------------------------------------------------------------ URL tables

CELL = st.one_of(st.sampled_from(SPECIAL[:30]), st.text(alphabet="0123456789.-e", max_size=8),
                 st.integers(-1000, 1000).map(str), st.text(max_size=5))


@st.composite
def table_text(draw):
    """Text shaped like a table (rows of cells) or not shaped at all."""
    rows = draw(st.lists(st.lists(CELL, min_size=0, max_size=6), min_size=0, max_size=20))
    shaped = ";".join(",".join(row) for row in rows)
    return draw(st.sampled_from([shaped, shaped + ";", " " + shaped, shaped.replace(",", ";")]))


@settings(max_examples=500, deadline=None)
@given(st.one_of(table_text(), URL_TEXT, st.text(alphabet="1,;", min_size=500, max_size=3000)),
       st.integers(1, 16), st.integers(1, 6))
def test_a_table_from_the_url_is_whole_and_finite_or_refused_with_bad_param(raw, max_rows, columns):
    try:
        cells = tables.decode(raw, max_rows=max_rows, columns=columns)
    except params.BadParam as error:
        assert raw not in str(error) or len(raw) <= 12     # the message never repeats the value
        return
    assert 1 <= len(cells) <= max_rows and all(len(row) == columns for row in cells)
    assert all(math.isfinite(float(cell)) and cell == tables.cell_text(cell) for row in cells for cell in row)
    assert tables.decode(tables.encode(cells), max_rows=max_rows, columns=columns) == cells


FINITE = st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(-10**15, 10**15))


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 16).flatmap(lambda rows: st.integers(1, 16).flatmap(
    lambda columns: st.lists(st.lists(FINITE, min_size=columns, max_size=columns), min_size=1, max_size=rows)
    .map(lambda cells: (rows, columns, cells)))))
@example((16, 16, [[-1.2345678901234567e-100] * 16] * 16)).via("every cell as long as a float's repr gets")
def test_a_table_of_numbers_survives_the_url(table):
    max_rows, columns, cells = table
    text = tables.encode(cells)
    assert tables.decode(text, max_rows=max_rows, columns=columns) == tables.canonical(cells)
    assert [[float(c) for c in row] for row in tables.canonical(cells)] == [[float(c) for c in row] for row in cells]


def test_table_notices_name_the_problem():
    for raw, words in [("", "is empty"), ("1,2;3", "1 cells in row 2"), ("1,x", "not a number (row 1, column 2)"),
                       ("1,nan", "not a finite number"), ("1,2;" * 40, "rows"), ("1," * 9000, "longer than")]:
        try:
            tables.decode(raw, max_rows=16, columns=2)
        except params.BadParam as error:
            assert words in str(error), (raw[:20], str(error))
        else:
            raise AssertionError(f"{raw[:20]!r} was accepted")


# ------------------------------------------------------------------ the conv page's layer lists

EDITOR_CELL = st.one_of(st.none(), st.just(float("nan")), st.integers(-5, 2000), st.floats(),
                        st.text(max_size=8), st.sampled_from(["3", " 5 ", "2.0", "1e3", "1e309", "", "0", "-1"]))


@settings(max_examples=500, deadline=None)
@given(st.lists(st.lists(EDITOR_CELL, min_size=3, max_size=3), max_size=20), st.integers(1, 4096))
def test_a_typed_layer_table_gives_layers_in_range_or_a_value_error(cells, n):
    """What the data editor hands the page: text, None, NaN (an emptied cell), numbers."""
    try:
        layers = conv.layers_from_cells(cells)
    except ValueError as error:
        assert str(error)
        return
    assert 1 <= len(layers) <= conv.MAX_LAYERS
    for layer in layers:
        assert 1 <= layer.kernel <= conv.MAX_LAYER_VALUE and 1 <= layer.stride <= conv.MAX_LAYER_VALUE
        assert 0 <= layer.padding <= conv.MAX_LAYER_VALUE
        assert all(type(v) is int for v in (layer.kernel, layer.stride, layer.padding))
    try:
        rows = conv.layer_table(n, layers)
    except ValueError as error:
        assert "layer" in str(error)
        return
    assert len(rows) == len(layers)
    for row in rows:
        assert 1 <= row.output_size <= row.input_size + 2 * row.layer.padding
        assert max(row.output_size, row.receptive_field, row.jump) <= conv.MAX_EXTENT


LAYER = st.tuples(st.integers(1, conv.MAX_LAYER_VALUE), st.integers(1, conv.MAX_LAYER_VALUE),
                  st.integers(0, conv.MAX_LAYER_VALUE))


@settings(max_examples=300, deadline=None)
@given(st.lists(LAYER, min_size=1, max_size=conv.MAX_LAYERS))
def test_a_layer_list_survives_the_url(layers):
    """The page writes the layers in use as conv_layers=k,s,p;...; reading that back (with the
    page's own check) gives the same layers."""
    text = tables.encode(layers)
    cells = tables.decode(text, max_rows=conv.MAX_LAYERS, columns=3, check=conv.layers_from_cells)
    assert [(layer.kernel, layer.stride, layer.padding) for layer in conv.layers_from_cells(cells)] == layers


@settings(max_examples=400, deadline=None)
@given(st.one_of(table_text(), URL_TEXT))
def test_a_layer_list_from_the_url_is_refused_only_with_bad_param(raw):
    try:
        cells = tables.decode(raw, max_rows=conv.MAX_LAYERS, columns=3, check=conv.layers_from_cells)
    except params.BadParam:
        return
    assert conv.layers_from_cells(cells)                             # the page's check passed: layers


# ------------------------------------------------------------------ preset names

PAGES_WITH_PRESETS = sorted(PRESETS)
NAMES = [p.name for found in PRESETS.values() for p in found]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from([*PAGES_WITH_PRESETS, "pages/home.py", "pages/nothing.py"]),
       st.one_of(URL_TEXT, st.sampled_from(NAMES), st.sampled_from(NAMES).map(lambda n: f" {n.swapcase()}\t")))
def test_a_preset_name_finds_that_preset_or_nothing(page, raw):
    found = presets.find(page, raw)
    assert found is None or (found in presets.for_page(page) and found.name.lower() == raw.strip().lower())


def test_every_preset_is_found_by_its_name_however_it_is_written():
    for page in PAGES_WITH_PRESETS:
        for preset in presets.for_page(page):
            for spelling in (preset.name, preset.name.upper(), f"  {preset.name.lower()}  "):
                assert presets.find(page, spelling) is preset
            assert all(presets.find(other, preset.name) in (None, *presets.for_page(other))
                       for other in PAGES_WITH_PRESETS)
