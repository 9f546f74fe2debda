"""Identity attention: K = I and Q = c I, so the weights approach I and the output V."""

import math

import numpy as np
import streamlit as st
import torch

from seqviz.attention import attention, softmax
from seqviz.core import rng
from seqviz.core.device import float_dtype
from seqviz.plots import memo, palette
from seqviz.plots.attention import attention as attention_plots
from seqviz.ui import cards, params, presets, registry, sidebar
from seqviz.ui.cache import cached
from seqviz.ui.charts import show_chart

plots = memo.figures(attention_plots)   # figures built once per input, for every session

registry.ensure_router()
C_GRID = tuple(float(c) for c in np.linspace(0.0, 40.0, 81))

st.title("Identity attention")
presets.picker(__file__)
st.markdown(
    "Can attention simply copy its values through? Take $N$ keys $K = I$ and $N$ queries $Q = c\\,I$. "
    r"Query $i$ matches key $i$ with score $c/\sqrt{N}$ and every other key with 0, so as $c$ grows each "
    "row of the weights becomes one-hot and the output becomes $V$ itself."
)
left, right = st.columns(2)
n = params.slider(r"$N$ (tokens; $Q$, $K$ are $N \times N$)", 2, 16, 4, key="id_n", container=left)
c = params.slider(r"$c$ ($Q = c\,I$)", 0.0, 40.0, 5.0, step=0.5, key="id_c", container=right)
V = np.round(rng.numpy_generator(sidebar.seed()).standard_normal((n, 3)) * 2, 1)  # (N, 3)

with cards.question_card(
    "How large must $c$ be before the output equals $V$?",
    r"Each row of the scaled scores is $c/\sqrt{N}$ on the diagonal and 0 elsewhere: a one-hot vector "
    r"scaled by $a = c/\sqrt{N}$. Softmax gives the diagonal"
    "\n\n"
    "$$\n" r"A_{ii} = \frac{e^a}{e^a + N - 1}," "\n$$"
    "\n\n"
    r"exactly the softmax flattening formula with $D = N$. The off-diagonal weights fall like $e^{-a}$, "
    r"so $\lVert A - I \rVert$ and $\lVert \text{output} - V \rVert$ shrink exponentially in $c$, and a "
    r"larger $N$ needs a larger $c$ (by $\sqrt{N}$ for the scaling, and by $\log N$ for the $N - 1$ "
    "competitors).",
    expanded=True,
):
    def compute(dev):
        v = torch.as_tensor(V, dtype=float_dtype(dev), device=dev)                 # (N, 3)
        output, weights = attention.identity_attention(c, v)
        sweep = cached(attention.identity_sweep)(C_GRID, V, str(dev))
        return output.cpu().numpy(), weights.cpu().numpy(), sweep

    output, weights, sweep = sidebar.run_on_device(compute, "light")
    closed_form, _ = softmax.onehot_softmax(n, c / math.sqrt(n))
    error = np.linalg.norm(weights - np.eye(n))
    m = st.columns(4)
    m[0].metric("diagonal weight", f"{weights[0, 0]:.6g}")
    m[1].metric(r"closed form $e^a / (e^a + N - 1)$", f"{closed_form:.6g}",
                help=rf"$a = c/\sqrt{{N}} = {c / math.sqrt(n):.4g}$")
    m[2].metric(r"$\lVert A - I \rVert_F$", f"{error:.3g}")
    m[3].metric(r"$\lVert \text{output} - V \rVert_F$", f"{np.linalg.norm(output - V):.3g}")
    show_chart(plots.identity_errors(sweep, c), key="id_errors", filename="identity_errors")
    labels = [f"{i + 1}" for i in range(n)]
    cols = st.columns([3, 2, 2])
    with cols[0]:
        show_chart(plots.matrix_heatmap(weights, f"weights A at c = {c:g}", row_labels=labels,
                                        col_labels=labels, colorscale=palette.WEIGHTS_SCALE, zmin=0, zmax=1),
                   key="id_weights", filename="identity_weights")
    bound = float(np.abs(np.concatenate([output, V])).max()) or 1.0  # one colour range for both
    with cols[1]:
        show_chart(plots.matrix_heatmap(output, "output", row_labels=labels, colorscale=palette.SIGNED_SCALE,
                                        zmin=-bound, zmax=bound), key="id_output", filename="identity_output")
    with cols[2]:
        show_chart(plots.matrix_heatmap(V, "V", row_labels=labels, colorscale=palette.SIGNED_SCALE,
                                        zmin=-bound, zmax=bound), key="id_values", filename="identity_values")
    cards.show_code(attention.identity_attention, attention.identity_sweep)

with cards.question_card(
    "Is $Q = K$ enough to get the identity?",
    r"Take $Q = K = s\,\hat{x}$, the tokens scaled to unit length. A token's score with itself is then "
    r"$s^2/\sqrt{d}$ and with any other token $s^2 \cos\theta / \sqrt{d}$ ($\theta$ the angle between "
    "them), smaller, so the diagonal of the weights is "
    "the largest entry of every row. (Without the unit length a longer token pointing the same "
    "way can even win.) But largest is not one-hot: softmax of finite scores always leaves "
    "weight on the other tokens, and more of it the more tokens there are. $Q = K = I$ is the "
    "case $c = 1$ above. Only a large scale, which a network would have to learn, pushes the "
    "weights towards the identity.",
):
    scale = params.slider(r"Scale $s$ ($Q = K = s\,\hat{x}$, $V = X$)", 0.25, 4.0, 1.0, step=0.25, key="id_scale")
    X = rng.numpy_generator(sidebar.seed() + 1).standard_normal((n, 8))      # (N, 8) tokens
    _, similar = attention.self_similarity_attention(X, scale)
    eye_weights = attention.identity_attention(1.0, np.eye(n))[1]
    k = st.columns(3)
    k[0].metric(r"mean diagonal weight, $Q = K = s\,\hat{x}$", f"{np.mean(np.diag(similar)):.3f}")
    k[1].metric("diagonal weight, $Q = K = I$", f"{eye_weights[0, 0]:.3f}")
    k[2].metric("one-hot would be", "1.000")
    show_chart(plots.matrix_heatmap(similar, f"weights with Q = K = {scale:g}·x̂ (8 features)",
                                    row_labels=labels, col_labels=labels, colorscale=palette.WEIGHTS_SCALE,
                                    zmin=0, zmax=1), key="id_self", filename="identity_q_equals_k")
    st.page_link("pages/softmax_flattening.py", icon=":material/equalizer:",
                 label="Why the softmax stays spread out: Softmax flattening")
    cards.show_code(attention.self_similarity_attention)
