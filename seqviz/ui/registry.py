"""The list of pages: one place that app.py's navigation and the Home cards both read."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

SECTIONS = ("Recurrent networks", "Attention", "Vision transformers", "Video captioning")


@dataclass(frozen=True)
class Topic:
    """One page of the app and the question it answers."""

    path: str
    title: str
    section: str
    icon: str
    url_path: str
    question: str


HOME = Topic("pages/home.py", "Home", "", ":material/home:", "home",
             "What is seqviz and what runs it?")

TOPICS: tuple[Topic, ...] = (
    Topic("pages/softmax_flattening.py", "Softmax flattening", "Attention",
          ":material/equalizer:", "softmax",
          "Why does softmax of a one-hot vector turn uniform as the vector grows, "
          "and why does attention divide by √d_k?"),
)


def navigation_sections() -> dict[str, list[st.Page]]:
    """Sections for st.navigation: Home first, then the topics in curriculum order."""
    sections: dict[str, list[st.Page]] = {"": [st.Page(HOME.path, title=HOME.title, icon=HOME.icon,
                                                       url_path=HOME.url_path, default=True)]}
    for section in SECTIONS:
        pages = [st.Page(t.path, title=t.title, icon=t.icon, url_path=t.url_path)
                 for t in TOPICS if t.section == section]
        if pages:
            sections[section] = pages
    return sections
