"""Figures shared between sessions: built once per input, never changed by drawing them."""

import dataclasses
import threading
import types

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from plotly.subplots import make_subplots

from seqviz.plots import memo
from seqviz.plots.attention import softmax as softmax_plots
from seqviz.ui import charts, present


@pytest.fixture(autouse=True)
def empty_cache():
    memo.clear()
    charts.forget_pictures()
    yield
    memo.clear()
    charts.forget_pictures()


@dataclasses.dataclass(frozen=True)
class Settings:
    size: int
    scale: float


def test_fingerprint_reads_types_shapes_and_values():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert memo.fingerprint(a) == memo.fingerprint(a.copy())
    assert memo.fingerprint(a) == memo.fingerprint(torch.from_numpy(a.copy()))
    different = [a.astype(np.float64), a.reshape(3, 2), a + 1e-7, a.T]
    assert len({memo.fingerprint(x) for x in [a, *different]}) == 5
    assert memo.fingerprint(1) != memo.fingerprint(1.0) != memo.fingerprint("1")
    assert memo.fingerprint(True) != memo.fingerprint(1)
    assert memo.fingerprint({"a": 1, "b": 2}) != memo.fingerprint({"b": 2, "a": 1})   # legend order
    assert memo.fingerprint([1, 2]) != memo.fingerprint((1, 2))
    assert memo.fingerprint(Settings(3, 0.5)) == memo.fingerprint(Settings(3, 0.5)) != memo.fingerprint(
        Settings(3, 0.25))
    assert memo.fingerprint(1, scale=2) != memo.fingerprint(1, 2)
    with pytest.raises(memo.Unhashable):
        memo.fingerprint(object())


def test_a_builder_runs_once_per_distinct_input():
    calls = []

    def bars(values, title="t"):
        calls.append(1)
        return go.Figure(go.Bar(y=list(values)), layout={"title": {"text": title}})

    cached = memo.memoized(bars)
    first = cached(np.array([1.0, 2.0]))
    assert cached(np.array([1.0, 2.0])) is first and len(calls) == 1
    assert cached(np.array([1.0, 3.0])) is not first and len(calls) == 2
    assert cached(np.array([1.0, 2.0]), title="u").layout.title.text == "u" and len(calls) == 3
    assert memo.stats()["hits"] >= 1 and memo.stats()["kept"] == 3


def test_arguments_it_cannot_read_build_a_fresh_figure_each_time():
    calls = []

    def drawn(thing):
        calls.append(thing)
        return go.Figure()

    cached = memo.memoized(drawn)
    thing = object()
    assert cached(thing) is not cached(thing) and len(calls) == 2
    assert memo.stats()["kept"] == 0


def test_only_the_most_recent_figures_are_kept(monkeypatch):
    monkeypatch.setattr(memo, "MAX_FIGURES", 2)
    cached = memo.memoized(lambda n: go.Figure(go.Bar(y=[n])))
    figs = [cached(n) for n in range(3)]
    assert memo.stats()["kept"] == 2
    assert cached(2) is figs[2] and cached(1) is figs[1]
    assert cached(0) is not figs[0]                          # the oldest was dropped


def test_results_that_are_not_figures_are_not_kept():
    calls = []

    def frames(n):
        calls.append(n)
        return [n]

    cached = memo.memoized(frames)
    assert cached(1) == [1] and cached(1) == [1] and len(calls) == 2


def test_a_module_view_memoizes_its_builders_and_passes_the_rest():
    plots = memo.figures(softmax_plots)
    assert plots.output_bars(4, 0.4, 0.2) is plots.output_bars(4, 0.4, 0.2)
    constants = types.SimpleNamespace(**{k: v for k, v in vars(softmax_plots).items() if k.isupper()})
    for name, value in vars(constants).items():
        assert getattr(plots, name) is value
    assert plots.go is softmax_plots.go
    assert softmax_plots.output_bars(4, 0.4, 0.2) is not softmax_plots.output_bars(4, 0.4, 0.2)


def lifted_by_hand(fig: go.Figure) -> dict:
    """What drawing a figure should send: a copy without the title text, the title kept in its
    meta, the top margin cut to what the panel labels need."""
    copy = go.Figure(fig)
    copy.layout.title.text, copy.layout.meta = None, {"title": fig.layout.title.text}
    if copy.layout.margin.t is not None:
        copy.layout.margin.t = max(24, charts.labels_height(fig))
    return copy.to_dict()


def test_drawing_a_shared_figure_sends_it_without_its_title_and_leaves_it_as_it_was():
    single = go.Figure(go.Scatter(x=[1, 2], y=[3, 4]),
                       layout={"title": {"text": "Loss", "x": 0, "xanchor": "left"}, "margin": {"t": 80}})
    panels = make_subplots(rows=1, cols=2, subplot_titles=["a long<br>label", "b"])
    panels.update_layout(title={"text": "Two panels"}, margin={"t": 90})
    untitled = go.Figure(go.Bar(y=[1]))
    for fig, title in ((single, "Loss"), (panels, "Two panels"), (untitled, None)):
        before = fig.to_dict()
        shown, said = charts._shown(fig)
        assert said == title and fig.to_dict() == before
        assert shown.to_dict() == (lifted_by_hand(fig) if title else before)
        assert charts._shown(fig)[0] is shown                 # prepared once, drawn again as is
    assert charts._shown(single)[0].to_dict()["layout"]["margin"]["t"] == 24
    assert charts._shown(panels)[0].to_dict()["layout"]["margin"]["t"] > 24     # room for two lines


def test_presentation_mode_gets_its_own_prepared_copy(monkeypatch):
    fig = go.Figure(go.Scatter(x=[1, 2], y=[3, 4]), layout={"title": {"text": "Loss"}, "height": 300})
    plain, _ = charts._shown(fig)
    monkeypatch.setattr(present, "on", lambda: True)
    projected, title = charts._shown(fig)
    assert title == "Loss" and projected is not plain
    assert projected.to_dict()["layout"]["height"] > plain.to_dict()["layout"]["height"] == 300


def test_many_threads_drawing_one_figure_see_the_same_figure():
    fig = memo.memoized(lambda: go.Figure(go.Bar(y=[1]), layout={"title": {"text": "T"}}))()
    before, seen, errors = fig.to_dict(), [], []

    def draw():
        try:
            for _ in range(20):
                shown, title = charts._shown(fig)
                seen.append((title, "text" in shown.to_dict()["layout"]["title"], fig.layout.title.text))
        except Exception as error:     # noqa: BLE001 - collected for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=draw) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and set(seen) == {("T", False, "T")} and fig.to_dict() == before


def test_pictures_are_encoded_once_per_content():
    image = np.random.default_rng(0).random((8, 8, 3))
    png = charts.to_png(image)
    assert charts.to_png(image.copy()) is png
    assert charts.to_png(image * 0.5) != png
    charts.forget_pictures()
    assert charts.to_png(image) == png and charts.to_png(image) is not png
