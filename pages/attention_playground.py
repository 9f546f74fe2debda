"""Attention playground: Q, K, V as editable tables, every step of the computation drawn."""

import pandas as pd
import streamlit as st

from seqviz.attention import attention
from seqviz.plots import memo, palette
from seqviz.plots.attention import attention as attention_plots
from seqviz.ui import cards, params, presets, registry, sidebar
from seqviz.ui import tables as url_tables
from seqviz.ui.charts import show_chart

plots = memo.figures(attention_plots)   # figures built once per input, for every session

registry.ensure_router()
LAST_GOOD = "att_last_good_matrices"

st.title("Attention playground")
presets.picker(__file__)
st.markdown(
    "$$\n" r"\operatorname{Attention}(Q, K, V) = \operatorname{softmax}\Big(\frac{Q K^\top}{\sqrt{d_k}}\Big)\, V" "\n$$"
    "\n\nEach row of $Q$ is a query, each row of $K$ a key "
    "with its value in the same row of $V$. Edit any cell below, or draw random matrices, and "
    "every step is recomputed with torch."
)

source = params.choice("Matrices", ["Worked example", "Random"], "Worked example",
                       key="att_source", horizontal=True)
if source == "Random":
    c = st.columns(4)
    n_q = params.slider(r"$N_Q$ (queries)", 1, 8, 4, key="att_nq", container=c[0])
    n_kv = params.slider(r"$N_{KV}$ (keys = values)", 1, 8, 3, key="att_nkv", container=c[1])
    d_k = params.slider("$d_k$", 1, 8, 4, key="att_dk", container=c[2])
    d_v = params.slider("$d_v$", 1, 8, 3, key="att_dv", container=c[3])
    base = attention.random_qkv(n_q, n_kv, d_k, d_v, seed=sidebar.seed())
    version = f"{n_q}x{n_kv}x{d_k}x{d_v}s{sidebar.seed()}"
else:
    base, version = (attention.WORKED_Q, attention.WORKED_K, attention.WORKED_V), "example"

st.caption("Rows are q1, q2, … in $Q$ and k1, k2, … in $K$ and $V$, top to bottom. Cells are text "
           "so that you can type anything; rows can be added and removed (K and V must keep the "
           f"same number of rows), up to {attention.MAX_MATRIX_SIDE} rows and columns per matrix.")
tables, in_url = {}, {}
widths = [m.shape[1] + 1 for m in base]  # room for every column of each matrix
for column, name, prefix, matrix in zip(st.columns(widths), "QKV", ("d", "d", "v"), base):
    column.markdown(f"**{name}**")
    # The URL keeps each matrix as Q=1,1,1,1;0,0,0,1 (rows by ';', cells by ',').
    in_url[name] = url_tables.bind(name, [[f"{x:g}" for x in row] for row in matrix], version=version,
                                   editor_key=f"att_{name}_{version}", max_rows=attention.MAX_MATRIX_SIDE,
                                   check=lambda cells, n=name: attention.matrix_from_cells(cells, n),
                                   container=column)
    # text cells: a user may type anything
    frame = pd.DataFrame(in_url[name].cells, columns=[f"{prefix}{j + 1}" for j in range(matrix.shape[1])])
    tables[name] = column.data_editor(
        frame, key=f"att_{name}_{version}", num_rows="dynamic", hide_index=True,
        column_config={col: st.column_config.TextColumn(col, width="small") for col in frame.columns})

try:
    Q, K, V = (attention.matrix_from_cells(tables[n].values.tolist(), n) for n in "QKV")
    attention.check_shapes(Q.shape, K.shape, V.shape)
    st.session_state[LAST_GOOD] = (Q, K, V)
except ValueError as error:
    st.error(f"{params.plain(error)}. The figures below keep the last good matrices.", icon=":material/block:")
    Q, K, V = st.session_state.get(LAST_GOOD) or [attention.matrix_from_cells(in_url[n].default, n) for n in "QKV"]
for name, matrix in zip("QKV", (Q, K, V)):
    in_url[name].write(matrix)

left, right = st.columns(2)
use_softmax = params.toggle("Apply the softmax", True, key="att_softmax", container=left,
                            help=r"Off: output $= (Q K^\top / \sqrt{d_k})\, V$, the worked example without softmax.")
wrong_axis = params.toggle("Normalise over the wrong axis (columns)", False, key="att_wrong_axis",
                           container=right, help="softmax down each column (over queries) "
                                                 "instead of along each row (over keys)")
axis = "queries" if wrong_axis else "keys"
heads = params.slider("Heads $h$ (split $d_k$ into $h$ slices)", 1, 8, 2, key="att_heads")
result = sidebar.run_on_device(lambda dev: attention.explain(
    Q, K, V, apply_softmax=use_softmax, normalise_over=axis, heads=heads, device=str(dev)), "light")

n_q, d_k, n_kv, d_v = Q.shape[0], Q.shape[1], K.shape[0], V.shape[1]
queries, keys = [f"q{i + 1}" for i in range(n_q)], [f"k{j + 1}" for j in range(n_kv)]
with cards.question_card(
    r"Which dimensions must match, and why is the output $N_Q \times d_v$?",
    "A score is the dot product of one query with one key, so queries and keys need the same "
    r"length $d_k$. Each key comes with one value, so $K$ and $V$ have the same number of rows $N_{KV}$. "
    r"The scores form an $N_Q \times N_{KV}$ table: one row per query, one column per key. Multiplying "
    r"that table by $V$ ($N_{KV} \times d_v$) mixes the value rows, giving one output of length $d_v$ "
    r"per query: $N_Q \times d_v$. The number of keys disappears in the sum, and $d_k$ never reaches "
    "the output.",
):
    st.markdown(
        f"| matrix | shape | must match |\n|---|---|---|\n"
        f"| $Q$ | {n_q} × **{d_k}** | $d_k$ with $K$'s columns |\n"
        f"| $K$ | *{n_kv}* × **{d_k}** | $d_k$ with $Q$, $N_{{KV}}$ with $V$'s rows |\n"
        f"| $V$ | *{n_kv}* × {d_v} | $N_{{KV}}$ with $K$'s rows |\n"
        f"| $Q K^\\top$, weights | {n_q} × *{n_kv}* | one row per query, one column per key |\n"
        f"| output = weights · $V$ | {n_q} × {d_v} | $N_Q$ from $Q$, $d_v$ from $V$ |")

with cards.question_card(
    "What does each step compute?",
    r"$Q K^\top$ compares every query with every key. Dividing by $\sqrt{d_k}$ keeps the spread of "
    r"the scores independent of $d_k$. The softmax turns each row into weights that are positive and sum to "
    "1, so each output row is a weighted average of the value rows. Switch the softmax off and "
    "the worked example gives exactly [[11, 15, 18], [5, 6.5, 7.5], [2, 2.5, 3], [0.5, 1, 1.5], "
    "[3.5, 5, 6]]; with it, query 1 scores all keys equally (2/2 = 1), gets 1/3 each and outputs "
    "the mean of V's rows, [3.6667, 5, 6].",
    expanded=True,
):
    if use_softmax:
        weights_title = ("softmax over the columns (wrong axis)" if wrong_axis
                         else "weights = softmax of each row")
    else:
        weights_title = "no softmax: weights = the scaled scores"
    if wrong_axis and use_softmax:
        row_sums = result.weights.sum(axis=1)
        st.warning(
            f"Normalised down the columns, each *key* shares one unit of weight among the queries. "
            f"The rows now sum to {row_sums.min():.3g} … {row_sums.max():.3g} instead of 1, so an "
            "output row is no longer an average of values: it grows or shrinks with how many "
            "queries compete for the same keys, and a query's result depends on the other queries.",
            icon=":material/swap_vert:")
    elif wrong_axis:
        st.caption("The wrong-axis switch only matters with the softmax on.")
    top, bottom = st.columns(2), st.columns(2)
    with top[0]:
        show_chart(plots.matrix_heatmap(result.products, f"Q Kᵀ ({n_q} × {n_kv})",
                                        row_labels=queries, col_labels=keys),
                   key="att_products", filename="attention_QKt")
    with top[1]:
        show_chart(plots.matrix_heatmap(result.scaled, f"Q Kᵀ / √{d_k}", row_labels=queries,
                                        col_labels=keys), key="att_scaled", filename="attention_scores")
    with bottom[0]:
        show_chart(plots.weights_heatmap(result.weights, weights_title, query_labels=queries,
                                         key_labels=keys, normalised=axis if use_softmax else None),
                   key="att_weights", filename="attention_weights")
    with bottom[1]:
        show_chart(plots.matrix_heatmap(result.output, f"output ({n_q} × {d_v})",
                                        row_labels=queries, colorscale=palette.SIGNED_SCALE,
                                        col_labels=[f"v{j + 1}" for j in range(d_v)]),
                   key="att_output", filename="attention_output")
    cards.show_code(attention.scaled_dot_product)

with cards.question_card(
    "What does splitting $d_k$ into heads change?",
    r"Multi-head attention cuts the $d_k$ columns of $Q$ and $K$ into $h$ slices and runs attention on "
    r"each, scaled by $\sqrt{d_k / h}$. Each head compares queries and keys on a different part of their "
    "features, so heads can attend to different keys. (Here every head reads the full V; a "
    "trained layer projects $V$ per head and concatenates the $h$ outputs.)",
):
    if result.heads != heads:
        st.caption(f"{heads} heads do not divide $d_k = {d_k}$; using {result.heads}.")
    show_chart(plots.heads_heatmaps(result.head_weights, query_labels=queries, key_labels=keys,
                                    scores=not use_softmax), key="att_heads_chart",
               filename="attention_heads")
    cards.show_code(attention.split_heads, attention.multi_head_weights)
