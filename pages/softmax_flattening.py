"""Softmax flattening: one-hot vectors of growing D, and the sqrt(d_k) scaling."""

import math

import numpy as np
import streamlit as st

from seqviz.attention import softmax
from seqviz.plots import memo
from seqviz.plots.attention import softmax as softmax_plots
from seqviz.ui import cards, params, presets, registry, sidebar
from seqviz.ui.cache import cached
from seqviz.ui.charts import show_chart

plots = memo.figures(softmax_plots)   # figures built once per input, for every session

registry.ensure_router()

D_OPTIONS = sorted(d for d in {int(round(m * 10**e)) for e in range(6) for m in (1, 1.5, 2, 3, 5, 7)}
                   if 2 <= d <= 100_000)
DK_OPTIONS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096]
CURVE_DIMS = np.unique(np.round(np.logspace(math.log10(2), 5, 41)).astype(int))

st.title("Softmax flattening")
presets.picker(__file__)
st.markdown(
    "Feed softmax a one-hot vector, a single 1 among $D - 1$ zeros, and it does **not** answer with "
    r"a one-hot: the hot entry gets $e / (e + D - 1)$. Slide $D$ up and watch it sink towards the "
    "uniform $1/D$. Every marker below is `torch.softmax` run on a real vector of length $D$."
)

left, right = st.columns(2)
D = params.log_select_slider("Vector length D", D_OPTIONS, 10, key="D", container=left,
                             help="Length of the one-hot vector (log scale).")
scale = params.slider("Logit scale c (the hot entry is c, the rest 0)", -5.0, 20.0, 1.0,
                      key="c", step=0.1, container=right)
device_used = sidebar.device_for("light")

with cards.question_card(
    "How much probability does the hot entry keep as D grows?",
    "The hot logit is $c$ and the other $D - 1$ logits are 0, so softmax gives the hot entry "
    "and every other entry\n\n"
    "$$\n" r"p_\text{hot} = \frac{e^c}{e^c + D - 1}, \qquad p_\text{other} = \frac{1}{e^c + D - 1}." "\n$$"
    "\n\nThe $D - 1$ small terms in the "
    "denominator add up: once $D - 1$ is much bigger than $e^c$ they swamp the hot entry. With "
    "$c = 1$ that already happens at $D = 10$ (0.232) and at $D = 100{,}000$ the hot entry gets "
    "2.7e-05, barely more than the 1e-05 of every other entry. Lines are the closed form; "
    "crosses are torch.softmax on the device in the sidebar. Attention over many keys has the "
    "same problem: a query that matches one key only a little better than the rest spreads "
    "its weight over all of them.",
):
    table = sidebar.run_on_device(
        lambda dev: cached(softmax.flattening_table)(tuple(CURVE_DIMS), scale, str(dev)), "light")
    p_hot, p_other = softmax.onehot_softmax(D, scale)
    t_hot, t_other = sidebar.run_on_device(
        lambda dev: cached(softmax.onehot_softmax_torch)(D, scale, str(dev)), "light")
    gap = max(float(table.gap.max()), abs(p_hot - t_hot), abs(p_other - t_other))
    m = st.columns(4)
    m[0].metric(r"$p_\text{hot}$ (closed form)", f"{p_hot:.6g}")
    m[1].metric(r"$p_\text{hot}$ (torch)", f"{t_hot:.6g}")
    m[2].metric(r"$p_\text{other}$", f"{p_other:.6g}", help=f"uniform would be $1/D = {1 / D:.6g}$")
    m[3].metric("largest gap, closed vs torch", f"{gap:.1e}",
                delta="agree to 1e-6" if gap < 1e-6 else "DISAGREE", delta_arrow="off",
                delta_color="green" if gap < 1e-6 else "red")
    show_chart(plots.flattening_curves(table, D), key="flattening_curves", filename="softmax_flattening")
    cards.show_code(softmax.onehot_softmax, softmax.onehot_softmax_torch)

bars_col, entropy_col = st.columns([3, 2])
with bars_col:
    show_chart(plots.output_bars(D, p_hot, p_other), key="output_bars", filename="softmax_output")
with entropy_col:
    entropy = softmax.onehot_entropy(D, scale)
    st.metric("Entropy of the output", f"{entropy:.4f} nats")
    st.metric(r"Maximum possible, $\log D$ (uniform)", f"{math.log(D):.4f} nats")
    st.progress(min(1.0, entropy / math.log(D)), text=f"{100 * entropy / math.log(D):.1f}% of the maximum")
    st.caption(r"A one-hot output would have entropy 0. The closer to $\log D$, the flatter.")

with cards.question_card(
    "How large must the logits be to keep the hot entry above $p$?",
    r"Solve $e^c / (e^c + D - 1) \ge p$ for $c$:"
    "\n\n"
    "$$\n" r"c \ge \ln \frac{p\,(D - 1)}{1 - p}." "\n$$"
    "\n\n"
    r"$D$ sits inside a logarithm, so each tenfold increase in $D$ asks for the same extra "
    r"$\ln 10 \approx 2.3$ of logit gap. For $p = 0.9$ that is 4.394 at $D = 10$ and 9.104 at "
    "$D = 1000$. A network that must pick "
    "one of many options has to produce ever larger logit gaps, which is one reason "
    "attention scores and classifier logits grow with the number of choices.",
):
    target = params.slider(r"Target $p_\text{hot}$", 0.5, 0.99, 0.9, key="p", step=0.01)
    needed = np.array([softmax.scale_for_target(int(d), target) for d in CURVE_DIMS])
    c_here = softmax.scale_for_target(D, target)
    st.markdown(rf"At $D = {f'{D:,}'.replace(',', '{,}')}$, $p_\text{{hot}} \ge {target}$ needs "
                rf"**$c \ge {c_here:.3f}$**; "
                rf"your $c = {scale}$ gives $p_\text{{hot}} = {p_hot:.4f}$ "
                f"({'enough' if scale >= c_here else 'not enough'}).")
    show_chart(plots.scale_needed(CURVE_DIMS, needed, target, D, scale), key="scale_needed",
               filename="softmax_scale_needed")
    cards.show_code(softmax.scale_for_target)

with cards.question_card(
    r"Why does attention divide $q \cdot k$ by $\sqrt{d_k}$?",
    r"If $q$ and $k$ have $d_k$ independent entries of variance 1, then $q \cdot k$ is a sum of $d_k$ "
    r"products of variance 1, so its variance is $d_k$:"
    "\n\n"
    "$$\n" r"\operatorname{Var}(q \cdot k) = d_k, \qquad "
    r"\operatorname{Var}\Big(\frac{q \cdot k}{\sqrt{d_k}}\Big) = 1." "\n$$"
    "\n\n"
    r"With $d_k = 512$ the scores spread over roughly "
    r"$\pm 70$, the softmax puts almost all its weight on one key, and a saturated softmax passes "
    "almost no gradient back. Dividing by $\\sqrt{d_k}$ brings the variance back to 1, whatever $d_k$ is, "
    "so the softmax row stays soft enough to learn from. Below, 512 random queries each score "
    "16 random keys.",
):
    d_k = params.log_select_slider("Key dimension $d_k$", DK_OPTIONS, 64, key="dk")
    stats = sidebar.run_on_device(
        lambda dev: cached(softmax.dot_product_stats)(d_k, seed=sidebar.seed(), device=str(dev)),
        "light")
    show_chart(plots.dot_product_histograms(stats.raw_scores, stats.scaled_scores, d_k),
               key="dot_histograms", filename="dot_product_scaling")
    k = st.columns(4)
    k[0].metric("max weight, unscaled", f"{stats.raw_max_weight:.3f}")
    k[1].metric("max weight, scaled", f"{stats.scaled_max_weight:.3f}")
    k[2].metric("entropy, unscaled", f"{stats.raw_entropy:.3f} nats")
    k[3].metric("entropy, scaled", f"{stats.scaled_entropy:.3f} nats",
                help=rf"uniform over 16 keys: $\log 16 = {stats.max_entropy:.3f}$")
    cards.show_code(softmax.dot_product_stats)

st.caption(f"Computed on {device_used.type.upper()} in this run.")
