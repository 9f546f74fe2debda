"""Formulas on every page render as formulas: no maths written as plain code-like text.

Streamlit renders LaTeX between `$...$` (and `$$...$$`) in markdown, captions, alerts,
expander bodies and labels, metric labels and help tooltips. This collects every piece
of markdown-capable text a page draws (every tab of the pages with tabs), removes what
sits inside formulas and code spans, and looks for maths left as plain text: subscripts
written `h_t` or `h_{t-1}`, `^T`, `sqrt(`, `||x||`, `O(N^2 d)`, or unicode stand-ins
(`√`, `ᵀ`, `²`, `‖`) that a formula renders better.
"""

from __future__ import annotations

import json
import re

import pytest

from seqviz.ui import charts, registry
from tests.apptest_helpers import assert_clean, chart_title, open_page, open_tab

MARKDOWN_ELEMENTS = ("markdown", "caption", "info", "warning", "success", "error", "toast")
LABELLED = ("slider", "select_slider", "number_input", "radio", "selectbox", "checkbox",
            "toggle", "button", "text_input", "text_area", "multiselect", "metric",
            "expander", "tab", "download_button", "segmented_control", "pills")

TABBED = {"pages/predictive_vit.py": ("vit_tab", ["Prediction", "Rollout", "Where it fails",
                                                  "Attention", "Ablations", "Train your own"]),
          "pages/video_captioning.py": ("cap_tab", ["Watch a clip", "Attention",
                                                    "Over the test set", "Cost"])}

PLAIN_MATHS = [
    (re.compile(r"_\{"), "a subscript in braces"),
    (re.compile(r"\^"), "a caret superscript"),
    (re.compile(r"sqrt\("), "sqrt("),
    (re.compile(r"\|\|"), "a norm written ||"),
    (re.compile(r"(?<![\\\w])[A-Za-z]{1,2}_[A-Za-z0-9]{1,3}(?!\w)"), "a subscript written x_t"),
    (re.compile(r"\bO\(N"), "big O written in plain text"),
    (re.compile(r"\b(softmax|tanh|ceil|floor)\("), "a function applied in plain text"),
    (re.compile(r"dL/d"), "a derivative written dL/d"),
    (re.compile(r"[√ᵀ²³‖⊙∂]"), "a unicode stand-in for maths"),
]

# `$...$` or `$$...$$` not preceded by a backslash (an escaped dollar is a dollar sign).
FORMULA = re.compile(r"(?<!\\)\$\$.+?(?<!\\)\$\$|(?<!\\)\$.+?(?<!\\)\$", re.DOTALL)
CODE_SPAN = re.compile(r"(`+).+?\1", re.DOTALL)


def outside_formulas(text: str) -> str:
    """`text` with code spans and formulas taken out."""
    return FORMULA.sub(" ", CODE_SPAN.sub(" ", text))


def plain_maths(text: str) -> list[str]:
    """What in `text` is maths written as plain text (empty when none)."""
    rest = outside_formulas(text)
    found = []
    for pattern, name in PLAIN_MATHS:
        for match in pattern.finditer(rest):
            start = max(0, match.start() - 30)
            found.append(f"{name}: …{rest[start:match.end() + 30]}…")
    return found


def _chart_titles(at) -> set[str]:
    """The lines that repeat a chart's own title above it: a plotly title cannot typeset LaTeX
    (it is drawn into the exported picture too), so it writes its maths in unicode."""
    titles = set()
    for chart in at.get("plotly_chart"):
        title = chart_title(json.loads(chart.proto.spec))
        if title:
            titles.add(charts.chart_title(title))
    return titles


def _texts(at) -> list[str]:
    texts = []
    titles = _chart_titles(at)
    for kind in MARKDOWN_ELEMENTS:
        texts += [str(e.value) for e in at.get(kind) if not (kind == "markdown" and str(e.value) in titles)]
    for kind in LABELLED:
        for element in at.get(kind):
            proto = element.proto
            for field in ("label", "help"):
                value = getattr(proto, field, "")
                if value:
                    texts.append(value)
    return texts


def _page_texts(page: str) -> list[str]:
    at = open_page(page)
    assert_clean(at)
    texts = _texts(at)
    if page in TABBED:
        key, tabs = TABBED[page]
        for tab in tabs[1:]:
            texts += _texts(open_tab(at, key, tab))
    return texts


def test_the_check_finds_plain_maths_and_spares_formulas_and_code():
    assert plain_maths("h_{t-1} = tanh(W_xh x_t)")
    assert plain_maths("softmax(Q K^T / sqrt(d_k)) V")
    assert plain_maths("||dL/dh_t|| and O(N^2 d)")
    assert plain_maths("√d_k and Kᵀ")
    assert plain_maths("‖A − I‖ and c_t = f ⊙ c")
    assert not plain_maths(r"$h_{t-1} = \tanh(W_{xh} x_t)$ and $$\sqrt{d_k}$$")
    assert not plain_maths("run `test_rnn.py` or `h_t`, costs \\$5 and \\$6, the memory_task")
    assert not plain_maths(r"a user's text shown escaped: h\_t")


@pytest.mark.parametrize("page", [registry.HOME.path] + [t.path for t in registry.TOPICS])
def test_every_formula_on_the_page_is_rendered_as_a_formula(page):
    problems = [p for text in _page_texts(page) for p in plain_maths(text)]
    assert not problems, "\n".join(problems)
