"""Live training on a page: a start button, a progress bar and a stop button.

Training runs inside the page's `st.fragment`. Every progress report touches the
page (the bar), which is where Streamlit delivers a pending click: pressing Stop,
moving a widget or closing the tab ends the run there, and the weights trained so
far stay with the session (the model is updated in place).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from seqviz.core.train import NonFiniteLoss, Progress


def run_training(key: str, train: Callable[[Callable[[Progress], None]], Any], *,
                 label: str = "Train", describe: Callable[[Progress], str] | None = None,
                 on_report: Callable[[Progress], None] | None = None) -> Any | None:
    """Draw Train / Stop buttons; when Train is clicked, call ``train(on_progress)``.

    `train` runs the loop (seqviz.core.train.train_loop) with the given progress callback.
    Returns what `train` returned, or None when nothing ran or it failed; a
    NonFiniteLoss or a GPU failure is shown as an error, never a traceback.
    `on_report` may redraw a live chart at each report.
    """
    left, right = st.columns([1, 1])
    start = left.button(label, key=f"{key}_start", type="primary", icon=":material/play_arrow:")
    right.button("Stop", key=f"{key}_stop", icon=":material/stop:",
                 help="Stops training after the current step; the weights so far are kept.")
    if not start:
        return None
    bar = st.progress(0.0, text="starting…")

    def on_progress(progress: Progress) -> None:
        text = describe(progress) if describe else (
            f"step {progress.step}/{progress.total} · loss {progress.metrics.get('loss', float('nan')):.4f}"
            f" · {progress.elapsed_s:.1f} s")
        bar.progress(min(1.0, progress.fraction), text=text)
        if on_report is not None:
            on_report(progress)

    try:
        return train(on_progress)
    except NonFiniteLoss as error:
        st.error(f"Training stopped: {error}. The last good weights were kept.")
    except MemoryError:
        st.error("Out of memory: this configuration does not fit. Try a smaller one.")
    except RuntimeError as error:
        if "out of memory" in str(error).lower():
            st.error("The device ran out of memory for this configuration; nothing was changed. "
                     "Try a smaller batch or model, or the CPU.")
        else:
            raise
    return None
