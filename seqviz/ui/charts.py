"""Charts and image panels with their downloads: a chart as PNG and SVG (drawn on the server
by kaleido, at a fixed size with every title, legend and tick label inside the picture) and its
data as CSV; an image panel as the very PNG it shows."""

from __future__ import annotations

import functools
import io
import logging
import os
import shutil
from typing import Any

import numpy as np
import PIL.Image
import plotly.graph_objects as go
import streamlit as st

from seqviz.plots import memo
from seqviz.plots.common import figure_to_frame
from seqviz.ui import params, present


class _Drawn(go.Figure):
    """A figure ready to draw, held as the dict st.plotly_chart reads of a figure (its to_dict):
    made once from a checked figure and shared read-only, so neither plotly's property checks
    nor its deep copy run again on every rerun. Only to_dict is meant to be called on it."""

    def __init__(self, spec: dict):     # noqa: D107 - plotly's own __init__ (every property checked) is not run
        self._spec = spec

    def to_dict(self) -> dict:
        return self._spec


def _title_lifted(fig: go.Figure) -> tuple[dict, str | None]:
    """The figure as a dict without its title (and with only the top margin the panel labels
    need), and the title text; the figure passed in is left as it is (it may be shared:
    seqviz.plots.memo). The page writes the title above the chart instead, where it wraps on
    any screen, so it can never run off a phone's width or under a legend."""
    spec = fig.to_dict()
    layout = spec.setdefault("layout", {})
    title = (layout.get("title") or {}).get("text")
    if not title:
        return spec, None
    layout["title"] = {key: value for key, value in layout["title"].items() if key != "text"}
    layout["meta"] = {"title": title}      # kept in the chart's data, for whoever reads it
    if (layout.get("margin") or {}).get("t") is not None:   # what is left above the plot: the panel labels
        layout["margin"] = {**layout["margin"], "t": max(24, labels_height(fig))}
    return spec, title


def _shown(fig: go.Figure) -> tuple[go.Figure, str | None]:
    """What show_chart draws of `fig` in this session's mode (see present.figure), title lifted;
    kept on the figure, so a figure drawn again (a cached one, on every rerun, for every
    session) is prepared once per mode."""
    mode = present.on()
    prepared = getattr(fig, "_seqviz_shown", None)
    if prepared is None:
        prepared = {}
        fig._seqviz_shown = prepared        # plotly lets underscored attributes through
    if mode not in prepared:
        spec, title = _title_lifted(present.figure(fig))
        prepared[mode] = (_Drawn(spec), title)
    return prepared[mode]


def labels_height(fig: go.Figure) -> int:
    """Pixels the labels above the top row of panels need (each line of each label at its font
    size, with a little room), or 0 without such labels."""
    default = fig.layout.font.size or 14
    needed = 0
    for note in fig.layout.annotations:
        if note.yref == "paper" and (note.y or 0) >= 0.98 and note.yanchor == "bottom":
            lines = str(note.text or "").count("<br>") + 1
            needed = max(needed, int(lines * (note.font.size or default) * 1.3) + 10)
    return needed


def chart_title(title: str) -> str:
    """A figure title as markdown: bold, its line breaks as spaces, nothing read as syntax."""
    return f"**{params.plain(title.replace('<br>', ' '))}**"


EXPORT_WIDTH = 1200      # px of an exported chart; its height is the chart's own, at least EXPORT_MIN_HEIGHT
EXPORT_MIN_HEIGHT = 500
TITLE_PAD = 12          # px between the picture's edge and the title
PNG_SCALE = 2            # an exported PNG has twice the pixels, sharp on a slide
NO_CHROMIUM = ("PNG/SVG export needs Chromium on the server; the camera in the chart's toolbar "
               "saves a PNG.")
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")

_log = logging.getLogger(__name__)
_export_failed: list[str] = []  # set when an export fails at a click: later runs say so instead


def export_available() -> bool:
    """Whether kaleido can draw charts here: it is installed, a Chromium is found, and no
    export has failed in this process."""
    return not _export_failed and _exporter_installed(os.environ.get("BROWSER_PATH"))


@functools.lru_cache(maxsize=4)
def _exporter_installed(browser_path: str | None) -> bool:
    """kaleido and a Chromium, looked up once per server (every chart asks on every rerun)."""
    try:
        import kaleido  # noqa: F401  (plotly's fig.to_image draws through it)
    except ImportError:
        return False
    if browser_path:                        # kaleido's browser finder takes this one alone when set
        return os.path.exists(browser_path)
    return any(shutil.which(name) for name in BROWSERS)


def export_layout(fig: go.Figure, *, width: int = EXPORT_WIDTH) -> go.Figure:
    """A copy of `fig` for a picture file: a fixed size, and the title, axis titles and tick
    labels allowed to grow the margins, so nothing is cut at the edges. An animation's first
    frame is kept without its play buttons and slider, which do nothing in a picture."""
    out = go.Figure(fig)
    out.frames = []
    height = max(int(fig.layout.height or 0), EXPORT_MIN_HEIGHT)
    out.layout.updatemenus, out.layout.sliders = (), ()   # assigned: update_layout would merge them
    out.update_layout(width=width, height=height, margin_autoexpand=True,
                      title=dict(automargin=True, yref="container", y=1.0, yanchor="top",
                                 pad=dict(t=TITLE_PAD, l=TITLE_PAD, r=TITLE_PAD)))
    out.update_xaxes(automargin=True)
    out.update_yaxes(automargin=True)
    return out


def export_image(fig: go.Figure, fmt: str, *, width: int = EXPORT_WIDTH) -> bytes:
    """The chart as an SVG or PNG file (bytes), drawn by kaleido in headless Chromium."""
    out = export_layout(fig, width=width)
    scale = PNG_SCALE if fmt == "png" else 1
    return out.to_image(format=fmt, width=width, height=int(out.layout.height), scale=scale)


def _deferred_export(fig: go.Figure, fmt: str):
    """The download's data: drawn only when the button is clicked, tried twice (a Chromium
    slow to start on a busy server can fail once). A failure gives an empty file, never an
    error; when Chromium is missing, later page runs show NO_CHROMIUM instead of the buttons."""
    def build() -> bytes:
        for attempt in range(2):
            try:
                return export_image(fig, fmt)
            except Exception as error:  # no Chromium, or it crashed: the page must not
                _log.warning("chart export to %s failed (attempt %d): %s", fmt, attempt + 1, error)
                if "chrome" in str(error).lower() and "requires" in str(error).lower():
                    _export_failed.append(str(error))
                    break
        return b""
    return build


def chart_downloads(fig: go.Figure, *, key: str, filename: str) -> None:
    """A small Download menu: the chart as PNG and SVG, its data as CSV (each built on click)."""
    can_draw = export_available()
    with st.popover("Download", icon=":material/download:", key=f"{key}_download"):
        for fmt, mime in (("png", "image/png"), ("svg", "image/svg+xml")):
            st.download_button(
                f"Chart as {fmt.upper()}", _deferred_export(fig, fmt), file_name=f"{filename}.{fmt}",
                mime=mime, key=f"{key}_{fmt}", on_click="ignore", disabled=not can_draw,
                icon=":material/image:", width="stretch")
        if not can_draw:
            st.caption(NO_CHROMIUM)
        st.download_button(
            "Data as CSV", lambda: figure_to_frame(fig).to_csv(index=False), file_name=f"{filename}.csv",
            mime="text/csv", key=f"{key}_csv", on_click="ignore", icon=":material/table:", width="stretch")


def show_chart(fig: go.Figure, *, key: str, filename: str | None = None) -> None:
    """Draw a plotly figure (a PNG camera in its toolbar) with PNG, SVG and CSV downloads below it."""
    name = filename or key
    config = {
        "displaylogo": False,
        "toImageButtonOptions": {"format": "png", "filename": name, "scale": 2},
    }
    shown, title = _shown(fig)
    if title:
        st.markdown(chart_title(title))
    st.plotly_chart(shown, key=key, config=config)
    chart_downloads(fig, key=key, filename=name)


_PNGS = memo.Kept()      # fingerprint -> PNG
MAX_PNGS = 256


def to_png(image: Any) -> bytes:
    """PNG bytes of an image: PNG bytes unchanged; a uint8 array as is; a float array in [0, 1]
    clipped and rounded to 0-255. (H, W), (H, W, 3) or (H, W, 4). The last MAX_PNGS encodings
    are kept: a page redraws the same pictures on most reruns."""
    if isinstance(image, (bytes, bytearray)):
        return bytes(image)
    array = np.asarray(image)
    try:
        key = memo.fingerprint(array)
    except memo.Unhashable:
        return _encode_png(array)
    png = _PNGS.get(key)
    if png is None:
        png = _encode_png(array)
        _PNGS.put(key, png, MAX_PNGS)
    return png


def forget_pictures() -> None:
    """Drop the kept PNG encodings (the server does so once the last session has gone)."""
    _PNGS.clear()


def _encode_png(array: np.ndarray) -> bytes:
    if array.dtype != np.uint8:
        array = (np.clip(array.astype(float), 0.0, 1.0) * 255).round().astype(np.uint8)
    buffer = io.BytesIO()
    PIL.Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def show_image(image: Any, *, key: str, filename: str, caption: str | None = None,
               container: Any = None, download: bool = True) -> bytes:
    """Draw a picture the app computed with a PNG download of exactly the bytes shown; returns them.

    `container` is where to draw (a column, an st.empty); `download=False` while a loop redraws
    the same slot (a widget key may appear once per run)."""
    png = to_png(image)
    target = (container if container is not None else st).container()
    target.image(png, caption=caption, output_format="PNG")  # the bytes as they are
    if download:
        target.download_button("PNG", png, file_name=f"{filename}.png", mime="image/png", key=f"{key}_png",
                               on_click="ignore", icon=":material/download:", type="tertiary")
    return png
