"""The list of pages: one place that app.py's navigation and the Home cards both read."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

SECTIONS = ("Recurrent networks", "Attention", "Vision transformers", "Video captioning")


@dataclass(frozen=True)
class Topic:
    """One page of the app and the question it answers."""

    path: str
    title: str
    section: str
    icon: str
    question: str
    default: bool = False

    @property
    def url_path(self) -> str:
        """The page's URL path: its file name, so that it is the same in every mode;
        empty for the default page, which lives at the app's root."""
        return "" if self.default else self.path.rsplit("/", 1)[-1].removesuffix(".py")


HOME = Topic("pages/home.py", "Home", "", ":material/home:", "What is seqviz and what runs it?",
             default=True)

TOPICS: tuple[Topic, ...] = (
    Topic("pages/memory_tasks.py", "Memory tasks: RNN vs LSTM vs TCN", "Recurrent networks",
          ":material/memory:",
          "Which models can hold a token until they are asked for it, and which generalise "
          "to positions they were not trained on?"),
    Topic("pages/hidden_state.py", "Hidden state vs output", "Recurrent networks",
          ":material/grid_on:",
          "Where does a recurrent network keep what it saw, before its output shows it?"),
    Topic("pages/gradients.py", "Gradients across sequence length", "Recurrent networks",
          ":material/trending_down:",
          "Why do gradients vanish or explode through time, and how long a sequence can a "
          "hidden state of a given size remember?"),
    Topic("pages/sequence_architectures.py", "Sequence architectures", "Recurrent networks",
          ":material/account_tree:",
          "One item or a sequence, in and out: which architecture, with a CNN or an RNN, fits which task?"),
    Topic("pages/softmax_flattening.py", "Softmax flattening", "Attention",
          ":material/equalizer:",
          "Why does softmax of a one-hot vector turn uniform as the vector grows, "
          r"and why does attention divide by $\sqrt{d_k}$?"),
    Topic("pages/attention_playground.py", "Attention playground", "Attention",
          ":material/grid_on:",
          r"What does $\operatorname{softmax}(Q K^\top / \sqrt{d_k})\, V$ compute, step by step, "
          "and which shapes must match?"),
    Topic("pages/identity_attention.py", "Identity attention", "Attention",
          ":material/select_all:",
          "When does attention pass $V$ through unchanged, and why is $Q = K$ not enough?"),
    Topic("pages/permutation.py", "Permutation and positions", "Attention",
          ":material/shuffle:",
          "Why does shuffling the tokens only shuffle the outputs, until positions are added?"),
    Topic("pages/attention_vs_conv.py", "Attention versus convolution", "Attention",
          ":material/speed:",
          "How far does a convolution see, and how much more does attention over every pixel cost?"),
    Topic("pages/words_to_regions.py", "Words to regions: cross-attention", "Attention",
          ":material/draw:",
          "How can a sentence's words about places reach the right part of a picture that a "
          "network draws, and what goes wrong without attention?"),
    Topic("pages/predictive_vit.py", "Predicting the next frame", "Vision transformers",
          ":material/movie:",
          "How does a Vision Transformer predict the next frame of a video, and where "
          "does it fail?"),
    Topic("pages/video_captioning.py", "Live and offline captioning", "Video captioning",
          ":material/subtitles:",
          "What can a captioner say while the video is still playing, and what does seeing the "
          "whole clip, its order and its motion buy?"),
)


def sections(*groups: tuple[str, ...]) -> dict[str, list[st.Page]]:
    """st.navigation's sections from app.py's list: ``("Section", "pages/a.py", ...)``.

    Each path must be a registered page of that section, and every registered page
    must be listed exactly once, so the menu and the Home cards cannot drift apart.
    """
    known = {topic.path: topic for topic in (HOME, *TOPICS)}
    listed: list[str] = []
    result: dict[str, list[st.Page]] = {}
    for name, *paths in groups:
        for path in paths:
            topic = known.get(path)
            if topic is None or topic.section != name:
                raise ValueError(f"{path} is not a registered page of section {name!r}")
            listed.append(path)
        result[name] = [st.Page(known[p].path, title=known[p].title, icon=known[p].icon,
                                default=known[p].default,
                                **({} if known[p].default else {"url_path": known[p].url_path}))
                        for p in paths]
    if sorted(listed) != sorted(known):
        raise ValueError(f"app.py must list every page once; listed {sorted(listed)}")
    return result


def ensure_router() -> None:
    """Make sure this run went through app.py (its sidebar and navigation).

    Streamlit decides at a server's first run whether a `pages/` folder beside the
    entry script means the old pages-folder mode; until app.py has called
    st.navigation once, a bookmarked page is run on its own, without the router.
    Every page calls this first: in that mode it switches the flag off and reruns,
    so the very first visitor sees the real app.
    """
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
