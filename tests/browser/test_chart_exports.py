"""Chart pictures as students download them: real figures of the app exported to SVG by kaleido
have every text element (title, axis titles, tick labels, legend, colour bar, subplot titles)
inside the picture, measured in Chromium; and on a running page the Download menu's PNG and SVG
are real pictures of the chart and its CSV is the chart's table."""

from __future__ import annotations

import io
from types import SimpleNamespace

import numpy as np
import PIL.Image
import pytest

from seqviz.plots import recurrent, vit
from seqviz.plots.attention import attention
from seqviz.ui import charts
from tests.browser.conftest import _missing, screenshot, wait_until_idle
from tests.browser.test_pages import assert_no_exception

# a text's box may pass the edge by a rounding error, no more
TOLERANCE = 1.0

OUTSIDE_TEXTS = """() => {
  const svg = document.querySelector('svg');
  const frame = svg.getBoundingClientRect();
  const outside = [];
  for (const text of svg.querySelectorAll('text')) {
    const box = text.getBoundingClientRect();
    if (!text.textContent.trim() || box.width === 0 || box.height === 0) continue;
    if (box.left < frame.left - TOLERANCE || box.top < frame.top - TOLERANCE ||
        box.right > frame.right + TOLERANCE || box.bottom > frame.bottom + TOLERANCE) {
      outside.push([text.textContent, box.left - frame.left, box.top - frame.top,
                    box.right - frame.left, box.bottom - frame.top, frame.width, frame.height]);
    }
  }
  return {count: svg.querySelectorAll('text').length, outside};
}""".replace("TOLERANCE", str(TOLERANCE))


def _points(values):
    return [SimpleNamespace(step=100 * (i + 1), train_loss=v, val_loss=v * 1.1, train_accuracy=1 - v / 2,
                            val_accuracy=1 - v / 1.8) for i, v in enumerate(values)]


def app_figures():
    """Real figures of the app, with the long labels and legends students meet."""
    rng = np.random.default_rng(0)
    sentences = ["the red circle", "a blue square top left", "nothing at all", "<eos>"]
    return {
        "heatmap_with_colorbar": recurrent.state_heatmap(rng.normal(size=(16, 24)), rng.integers(0, 6, 24),
                                                         "Hidden state h_t (units × time), a long title"),
        "annotated_matrix": attention.weights_heatmap(
            rng.dirichlet(np.ones(6), size=4), "weights A", query_labels=sentences,
            key_labels=[f"key {i}" for i in range(6)]),
        "subplots_with_titles_and_long_legend": recurrent.training_curves(
            {"rnn-tanh": _points([1.0, 0.8, 0.7]), "lstm": _points([1.0, 0.5, 0.2]), "tcn": _points([0.9, 0.4, 0.1])},
            "copy task: validation (solid) and training batches (dotted)",
            sources={"rnn-tanh": "this session", "lstm": "shipped, seed 0", "tcn": "shipped, seed 0"}),
        "gate_subplots": recurrent.gate_heatmaps(
            {n: rng.random((8, 12)) for n in ("input", "forget", "cell", "output")}, rng.integers(0, 6, 12)),
        "long_legend": vit.loss_curves({f"model {i} with a rather long descriptive name": rng.random(40) + 0.1
                                        for i in range(7)}),
        "image_panels": vit.image_panels([("truth", rng.random((32, 32, 3))), ("|error|", rng.random((32, 32)))],
                                         "Frame 12: the predicted frame and its error"),
    }


@pytest.fixture(scope="module")
def exported():
    if not charts.export_available():
        _missing("kaleido cannot find Chromium to export charts")
    return {name: charts.export_image(fig, "svg") for name, fig in app_figures().items()}


@pytest.mark.parametrize("name", list(app_figures()))
def test_exported_svg_has_every_text_inside_the_picture(browser, exported, name):
    svg = exported[name]
    page = browser.new_page()
    try:
        page.set_content(f"<html><body style='margin:0'>{svg.decode()}</body></html>")
        found = page.evaluate(OUTSIDE_TEXTS)
    finally:
        page.close()
    assert found["count"] >= 3, found  # at least a title and two more texts
    assert found["outside"] == [], found["outside"]


def test_exported_png_is_the_asked_size():
    if not charts.export_available():
        _missing("kaleido cannot find Chromium to export charts")
    fig = app_figures()["heatmap_with_colorbar"]
    picture = PIL.Image.open(io.BytesIO(charts.export_image(fig, "png")))
    assert picture.size == (charts.EXPORT_WIDTH * charts.PNG_SCALE, charts.EXPORT_MIN_HEIGHT * charts.PNG_SCALE)


def _download_all(page, folder) -> dict[str, bytes]:
    """Open the first chart's Download menu and take each of its files; the bytes by suffix."""
    menu = page.locator("[data-testid=stPopover]").first
    got = {}
    for label, suffix in (("Chart as PNG", "png"), ("Chart as SVG", "svg"), ("Data as CSV", "csv")):
        menu.get_by_role("button").first.click()
        with page.expect_download(timeout=60_000) as download:
            page.get_by_role("button", name=label).first.click()
        path = folder / download.value.suggested_filename
        download.value.save_as(path)
        assert path.suffix == f".{suffix}"
        got[suffix] = path.read_bytes()
        page.keyboard.press("Escape")
    return got


def test_a_page_downloads_its_chart_as_png_svg_and_csv(server_url, browser, tmp_path):
    """Every download pressed twice, in two sessions at once: the same files each time."""
    if not charts.export_available():
        _missing("kaleido cannot find Chromium to export charts")
    contexts = [browser.new_context(viewport={"width": 1400, "height": 3000}) for _ in range(2)]
    pages = [context.new_page() for context in contexts]
    try:
        for page in pages:
            page.goto(f"{server_url}/softmax_flattening")
            wait_until_idle(page)
        rounds = []
        for index in range(2):
            for number, page in enumerate(pages):
                folder = tmp_path / f"{index}_{number}"
                folder.mkdir()
                rounds.append(_download_all(page, folder))
                assert_no_exception(page)
        got = rounds[0]
        picture = PIL.Image.open(io.BytesIO(got["png"]))
        assert picture.format == "PNG" and picture.size[0] == charts.EXPORT_WIDTH * charts.PNG_SCALE
        assert got["svg"].lstrip().startswith(b"<svg") and b"<text" in got["svg"]
        assert got["csv"].decode().splitlines()[0].startswith("trace,")
        assert all(r["csv"] == got["csv"] and r["svg"].lstrip().startswith(b"<svg")
                   and PIL.Image.open(io.BytesIO(r["png"])).size == picture.size for r in rounds)
        page = pages[0]
        screenshot(page, "chart_exports_softmax")
    finally:
        for context in contexts:
            context.close()
