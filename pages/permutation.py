"""Permutation and positions: self-attention + feed-forward is permutation-equivariant."""

import numpy as np
import streamlit as st

from seqviz.attention import permutation
from seqviz.plots import memo
from seqviz.plots.attention import attention as attention_plots
from seqviz.ui import cards, params, presets, registry, sidebar
from seqviz.ui.cache import cached
from seqviz.ui.charts import show_chart, show_image

plots = memo.figures(attention_plots)   # figures built once per input, for every session

registry.ensure_router()
ENCODING_NAMES = {"none": "no positions", "sinusoidal": "sinusoidal", "learned": "learned"}


def enlarge(picture: np.ndarray, factor: int = 8) -> np.ndarray:
    """Nearest-neighbour upscaling so that the patches stay crisp on screen."""
    return np.kron(picture, np.ones((factor, factor, 1)))  # (H*f, W*f, 3)


st.title("Permutation and positions")
presets.picker(__file__)
st.markdown(
    "A transformer block, self-attention then a feed-forward layer applied to each token "
    "separately (seeded random weights, single head, residual connections), reads a set of "
    "tokens: here the patches of a small picture. Shuffle the tokens and compare "
    "$f$(shuffled tokens) with the shuffled $f$(tokens)."
)
c = st.columns(4)
tokens = params.choice("Tokens", ["image patches", "random vectors"], "image patches",
                       key="perm_tokens", container=c[0])
patch = params.choice("Patch size (32 × 32 picture)", ["8 × 8", "4 × 4"], "8 × 8",
                      key="perm_patch", container=c[1], horizontal=True)
kind = params.choice("Permutation $P$", permutation.PERMUTATIONS, "random", key="perm_kind",
                     container=c[2], widget="selectbox",
                     help="'random' is drawn from the seed in the sidebar")
encoding = params.choice("Positional encoding", permutation.POS_ENCODINGS, "none", key="perm_pos",
                         container=c[3], help="none: the block sees a set of tokens; sinusoidal or "
                                              "learned: position $i$ gets its own vector $E_i$")

result = sidebar.run_on_device(lambda dev: cached(permutation.run_experiment)(
    tokens, int(patch.split()[0]), kind, encoding, sidebar.seed(), device=str(dev)), "light")
gap, scale = result.max_gap, result.scale

with cards.question_card(
    "Is $f(PX)$ equal to $P f(X)$?",
    "Without positions, nothing in the block knows where a token sits. The feed-forward layer "
    "treats each token alone, so moving tokens just moves its outputs. Attention gives token $i$ "
    "the average of all values weighted by how well its query matches each key; shuffling the "
    "tokens shuffles the rows and columns of the weight matrix together, and every token still "
    "gets the same average. So $f(PX) = P f(X)$: the outputs are permuted along with the inputs "
    "(equivariant), not left unchanged (that would be invariant, which needs a symmetric "
    "pooling such as a mean over tokens on top). The only difference left is float32 rounding. "
    "Add a positional encoding $E$ and position $i$ always gets $E_i$ whatever token lands there, so "
    r"a shuffled token is read with a different position: $f(PX + E) \neq P f(X + E)$.",
    expanded=True,
):
    m = st.columns(3)
    m[0].metric(r"largest $|f(PX) - P f(X)|$", f"{gap:.2e}",
                delta="equal up to rounding" if gap < 1e-4 else "NOT equal", delta_arrow="off",
                delta_color="green" if gap < 1e-4 else "red")
    m[1].metric(r"largest $|P f(X)|$ (for scale)", f"{scale:.3g}")
    m[2].metric("relative difference", f"{gap / scale:.1e}")
    pictures = st.columns(4)
    show_image(enlarge(result.image), caption="X: the tokens in order", container=pictures[0],
               key="perm_picture_x", filename="tokens_in_order")
    show_image(enlarge(result.shuffled), caption="P X: shuffled patches in", container=pictures[1],
               key="perm_picture_px", filename="tokens_shuffled")
    show_image(enlarge(result.f_PX_picture), caption="f(P X): features of the shuffled tokens",
               container=pictures[2], key="perm_picture_fpx", filename="features_of_shuffled_tokens")
    show_image(enlarge(result.P_fX_picture), caption="P f(X): the features, shuffled afterwards",
               container=pictures[3], key="perm_picture_pfx", filename="features_shuffled_afterwards")
    st.caption("Feature pictures: each token's output (32 numbers) is coloured by its three "
               "principal components, with one colour map for both, so equal features get equal "
               "colours. Tokens are numbered row by row.")
    order = ", ".join(str(i + 1) for i in result.perm[:16])
    st.caption(f"$P$ puts token {order}{' …' if len(result.perm) > 16 else ''} in positions 1, 2, 3, …")

with cards.question_card(
    "By how much do positions break the equality?",
    "The same block and permutation with each positional encoding. Without positions every "
    "token's difference sits near float32 rounding (about 1e-7 relative). Sinusoidal and "
    "learned encodings give differences as large as the features themselves on every token "
    "that moved; a token the permutation leaves in place still differs a little, because "
    "attention mixes in the tokens that did move.",
):
    st.markdown(" · ".join(f"**{ENCODING_NAMES[name]}**: {value:.2e}"
                           for name, value in result.max_gaps.items()))
    show_chart(plots.token_gaps({ENCODING_NAMES[k]: v for k, v in result.gaps.items()}),
               key="perm_gaps", filename="permutation_gaps")
    cards.show_code(permutation.EquivariantBlock, permutation.equivariance_gap)
