"""A guided tour for a 90-minute lecture: every page once, in order, each opened in one of its presets.

Home lists the steps with their minutes; every page ends with a link to the next step (the last one
back to Home), drawn by app.py after the page, so pages do not call it themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from seqviz.ui import registry

LECTURE_MINUTES = 90


@dataclass(frozen=True)
class Step:
    """One stop of the tour: a page, the preset it opens in, its minutes and what to show there."""

    path: str
    preset: str
    minutes: int
    show: str

    @property
    def topic(self) -> registry.Topic:
        return next(t for t in registry.TOPICS if t.path == self.path)


TOUR: tuple[Step, ...] = (
    Step("pages/sequence_architectures.py", "Encoder-decoder", 6,
         "One item or a sequence, in and out; the encoder-decoder reads everything before it writes."),
    Step("pages/hidden_state.py", "LSTM holds the token", 8,
         "The token sits in $h_t$ while $y_t$ still says 'nothing yet'; the probe reads it at once."),
    Step("pages/memory_tasks.py", "memorygen", 8,
         "memory against memorygen: fitting training is not generalising to new positions."),
    Step("pages/gradients.py", "Vanishing gradients", 9,
         r"$\|\partial L/\partial h_t\|$ on a log axis; then $\rho$ above 1 for an explosion, "
         "and the LSTM's forget bias."),
    Step("pages/softmax_flattening.py", "Flat at large D", 6,
         r"A one-hot input turns uniform as $D$ grows; the logit gap must grow like $\log D$; "
         r"why $\sqrt{d_k}$."),
    Step("pages/attention_playground.py", "Worked example", 10,
         r"$\mathrm{softmax}(QK^\top/\sqrt{d_k})\,V$ step by step on the worked example; "
         "then the wrong-axis softmax."),
    Step("pages/identity_attention.py", "Large c copies V", 5,
         r"$K = I$ and $Q = c\cdot I$ copy $V$ for a large $c$; $Q = K$ alone is not enough."),
    Step("pages/permutation.py", "No positions: equivariant", 6,
         "Shuffled tokens give shuffled outputs until positions are added."),
    Step("pages/attention_vs_conv.py", "Large image", 7,
         "Receptive fields of a conv stack; run the benchmark: $N^2$ against $N$."),
    Step("pages/words_to_regions.py", "Four objects, early", 8,
         "Quadrants attend to the words about their place; one vector for the sentence fails first."),
    Step("pages/predictive_vit.py", "Ablations", 9,
         "Next-frame prediction; without attention or positions, which pixels go wrong."),
    Step("pages/video_captioning.py", "Late event, wait-k 2", 8,
         "A live captioner guesses before a late event; a larger $k$ waits for it; offline sees all."),
)


def step_of(path: str) -> int | None:
    """The index in TOUR of the page at `path`, None for a page outside the tour (Home)."""
    return next((i for i, step in enumerate(TOUR) if step.path == path), None)


def next_after(path: str) -> Step | None:
    """The step after the page at `path` (the first from Home); None after the last: back Home."""
    index = step_of(path)
    if index is None:
        return TOUR[0]
    return TOUR[index + 1] if index + 1 < len(TOUR) else None


def link(step: Step, label: str) -> None:
    st.page_link(step.path, label=label, icon=step.topic.icon, query_params={"preset": step.preset})


def render() -> None:
    """The tour on Home: numbered steps, their minutes, what to show, and a link in the step's preset."""
    st.subheader(f"A guided tour: {LECTURE_MINUTES} minutes")
    st.caption("Each link opens the page in a preset; every page ends with a link to the next step.")
    for number, step in enumerate(TOUR, start=1):
        left, right = st.columns([2, 3])
        with left:
            link(step, f"{number}. {step.topic.title} ({step.minutes} min)")
        right.markdown(f"{step.show} *Preset: {step.preset}.*")


def footer(page: Any) -> None:
    """The link to the next step of the tour below the page st.navigation ran (after the last: Home)."""
    path = next((t.path for t in (registry.HOME, *registry.TOPICS)
                 if t.url_path == getattr(page, "url_path", None)), None)
    if path is None:
        return
    st.divider()
    step = next_after(path)
    index = step_of(path)
    if step is None:
        st.page_link(registry.HOME.path, label="End of the tour: back to Home", icon=registry.HOME.icon)
    elif index is None:
        link(step, f"Start the tour: 1. {step.topic.title}")
    else:
        link(step, f"Next in the tour: {index + 2}. {step.topic.title}")
