"""Presentation mode's figures and the panel labels: text, lines and heatmap numbers sized for a projector."""

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from seqviz.plots import common
from seqviz.plots.attention.attention import matrix_heatmap
from seqviz.plots.vit import image_panels


def _sizes(spec) -> list[float]:
    """Every font size set anywhere in a figure's spec."""
    found = []

    def walk(node, key=""):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "size" and key.endswith("font") and isinstance(v, (int, float)):
                    found.append(v)
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
    walk(spec)
    return found


def test_every_text_is_at_least_18_px_and_lines_4_px():
    fig = make_subplots(rows=1, cols=2, subplot_titles=("a", "b"))
    fig.add_scatter(y=[1, 2, 3], line=dict(width=1), marker=dict(size=4), mode="lines+markers", row=1, col=1)
    fig.add_bar(y=[1, 2], row=1, col=2)
    fig = common.style(fig, "title", x_title="x", y_title="y")
    fig.update_annotations(font_size=11)
    shown = common.for_projector(fig).to_plotly_json()
    sizes = _sizes(shown)
    assert sizes and min(sizes) >= common.PROJECTOR_FONT
    assert shown["layout"]["font"]["size"] == common.PROJECTOR_FONT
    assert shown["layout"]["title"]["font"]["size"] == common.PROJECTOR_TITLE
    assert all(a["font"]["size"] >= 18 for a in shown["layout"]["annotations"])
    assert shown["data"][0]["line"]["width"] == common.PROJECTOR_LINE
    assert shown["data"][0]["marker"]["size"] == common.PROJECTOR_MARKER
    assert shown["layout"]["height"] == int(360 * common.PROJECTOR_HEIGHT)
    # the figure passed in is unchanged, and the plotted numbers are the same
    assert fig.data[0].line.width == 1 and fig.layout.font.size is None
    assert list(shown["data"][0]["y"]) == [1, 2, 3]


def test_heatmap_numbers_stay_when_a_cell_holds_them_and_hide_when_it_cannot():
    small = common.for_projector(matrix_heatmap(np.eye(3), "3 x 3")).to_plotly_json()["data"][0]
    assert small["texttemplate"] and small["textfont"]["size"] >= 18

    def written(rows: int, columns: int, height: int) -> str:
        fig = go.Figure(go.Heatmap(z=np.ones((rows, columns)), texttemplate="%{z:.2f}"),
                        layout=dict(height=height, margin=dict(t=40, b=40)))
        return common.for_projector(fig).to_plotly_json()["data"][0]["texttemplate"]
    assert written(4, 4, 400) == "%{z:.2f}"
    assert written(16, 4, 400) == ""      # a row shorter than a line of 18 px text
    assert written(4, 16, 400) == ""      # a column narrower than the number
    shown = common.for_projector(matrix_heatmap(np.eye(16), "16 x 16")).to_plotly_json()["data"][0]
    assert shown["texttemplate"] == "" and shown["hovertemplate"]


def test_a_wide_matrix_writes_its_numbers_on_hover_only():
    assert matrix_heatmap(np.eye(8), "8").data[0].texttemplate
    assert matrix_heatmap(np.eye(16), "16").data[0].texttemplate == ""


def test_heatmap_cell_height_comes_from_the_figure_height_and_margins():
    assert common.heatmap_cell_px(4, {"height": 500, "margin": {"t": 60, "b": 40}}) == 100


def test_panel_labels_break_at_spaces_into_short_lines():
    assert common.panel_label("asked for (exact drawing)") == "asked for<br>(exact<br>drawing)"
    assert common.panel_label("truth") == "truth"
    assert all(len(line) <= 12 for line in common.panel_label("copying the last frame").split("<br>"))


def test_many_image_panels_wrap_onto_rows_of_four():
    panels = [(f"input t−{i}", np.zeros((4, 4, 3))) for i in range(7)]
    layout = image_panels(panels, "seven", height=200).to_plotly_json()["layout"]
    tops = sorted({round(layout[f"yaxis{'' if i == 0 else i + 1}"]["domain"][1], 3) for i in range(7)})
    assert len(tops) == 2 and layout["height"] == 320
    lefts = [layout[f"xaxis{'' if i == 0 else i + 1}"]["domain"][0] for i in range(7)]
    assert lefts[:4] == sorted(lefts[:4]) and lefts[4] == lefts[0]


def test_the_legend_sits_under_the_chart():
    layout = go.Figure(layout=common.base_layout("t")).to_plotly_json()["layout"]
    assert layout["legend"]["yref"] == "container" and layout["legend"]["y"] == 0
