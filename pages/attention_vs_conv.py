"""Attention versus convolution: conv arithmetic, and the measured cost of both."""

import time

import numpy as np
import pandas as pd
import streamlit as st
import torch

from seqviz.attention import conv
from seqviz.attention import cost as attention_cost
from seqviz.core.train import Progress
from seqviz.plots import memo
from seqviz.plots.attention import attention as attention_plots
from seqviz.plots.attention.conv import receptive_field_picture
from seqviz.ui import cards, params, presets, registry, sidebar
from seqviz.ui import tables as url_tables
from seqviz.ui.charts import show_chart
from seqviz.ui.training import Estimate, EstimatePart, current_job, run_training, session_estimate

plots = memo.figures(attention_plots)   # figures built once per input, for every session

registry.ensure_router()
LAST_GOOD, LAST_SWEEP = "conv_last_good_table", "_conv_last_sweep"  # this session's last good results

st.title("Attention versus convolution")
presets.picker(__file__)
st.markdown(
    "A convolution looks at a small window and sees further only by stacking layers; "
    "self-attention compares every pixel with every other pixel in one layer, and pays for it."
)

with cards.question_card(
    "What size is each layer's output, and how much of the input does one output pixel see?",
    "A kernel of width $k$ moved in steps of $s$ over an input of size $n$ padded by $p$ on each side "
    "fits\n\n"
    "$$\n" r"n_\text{out} = \Big\lfloor \frac{n + 2p - k}{s} \Big\rfloor + 1" "\n$$"
    "\n\ntimes. The receptive field grows by $k - 1$ times the jump, the "
    "distance on the input between two neighbouring pixels of the layer before; each stride "
    "multiplies the jump:\n\n"
    "$$\n" r"r_l = r_{l-1} + (k_l - 1)\, j_{l-1}, \qquad j_l = j_{l-1}\, s_l, \qquad r_0 = j_0 = 1." "\n$$"
    "\n\nSo the default four layers on $128 \\times 128$ give 63, 63, 63, 30 and "
    "see 3, 11, 15, 23 input pixels: after four layers one output pixel still sees under a "
    "fifth of the image, where one attention layer sees all of it.",
    expanded=True,
):
    n = params.number_input(r"Input size $n$ ($n \times n$ image)", 1, 4096, 128, key="conv_n")
    # The URL keeps the layers as conv_layers=3,2,0;5,1,2 (kernel, stride, padding per row).
    in_url = url_tables.bind("conv_layers", conv.EXAMPLE_LAYERS, editor_key="conv_layers",
                             max_rows=conv.MAX_LAYERS, check=conv.layers_from_cells)
    defaults = pd.DataFrame(in_url.cells, columns=["kernel", "stride", "padding"])
    st.caption(f"Up to {conv.MAX_LAYERS} layers; kernel, stride and padding are whole numbers up to "
               f"{conv.MAX_LAYER_VALUE:,}. Add, edit or delete rows.")
    edited = st.data_editor(defaults, key="conv_layers", num_rows="dynamic",
                            column_config={c: st.column_config.TextColumn(c) for c in defaults})
    try:
        layers = conv.layers_from_cells(edited.values.tolist())
        try:
            table = conv.layer_table(n, layers)
            st.session_state[LAST_GOOD] = (n, table)
        except ValueError as error:
            st.warning(f"{params.plain(error)}. Showing the last table that worked.", icon=":material/crop_free:")
    except ValueError as error:
        st.error(f"{params.plain(error)}. Showing the last table that worked.", icon=":material/block:")
    good_n, table = st.session_state.get(LAST_GOOD) or (128, conv.layer_table(128, conv.EXAMPLE_LAYERS))
    in_url.write([(r.layer.kernel, r.layer.stride, r.layer.padding) for r in table])
    st.dataframe(pd.DataFrame([{
        "layer": i + 1, "kernel": r.layer.kernel, "stride": r.layer.stride,
        "padding": r.layer.padding, "input": r.input_size, "output": r.output_size,
        "receptive field": r.receptive_field, "jump": r.jump} for i, r in enumerate(table)]),
        hide_index=True)
    show_chart(receptive_field_picture(good_n, table), key="conv_field", filename="receptive_field")
    cards.show_code(conv.output_size, conv.receptive_field)


def benchmark_settings() -> attention_cost.CostSettings:
    c = st.columns(5)
    return attention_cost.CostSettings(
        max_side=params.log_select_slider("Largest image side", [16, 32, 64, 128, 256, 512], 64,
                                          key="conv_max_side", container=c[0]),
        channels=params.log_select_slider("Channels C (= d)", [4, 8, 16, 32, 64], 64,
                                          key="conv_channels", container=c[1]),
        kernel=params.slider("Kernel k", 1, 9, 3, step=2, key="conv_kernel", container=c[2]),
        repeats=params.slider("Timed repeats", 3, 15, 5, key="conv_repeats", container=c[3]),
        memory_budget=params.log_select_slider(
            "Memory budget (MiB)", [1, 4, 16, 64, 256, 1024, 4096, 16384], 1024,
            key="conv_budget", container=c[4]) * 2**20,
        seed=sidebar.seed())


def benchmark_job(settings: attention_cost.CostSettings, device: str, store: dict):
    """The benchmark as a job of the training runner: one report per measured size, its rows
    in store["rows"] as they come; the sweep goes to store[LAST_SWEEP], whole or, after Stop,
    the sizes measured so far (a sweep marked stopped; none measured: the last sweep stays)."""
    total = len(attention_cost.sweep_sides(settings))

    def run(on_progress, should_stop):
        start, rows = time.perf_counter(), []
        store["rows"] = rows

        def row_done(row: attention_cost.CostRow) -> None:
            rows.append(row)
            on_progress(Progress(len(rows), total, {"attention ms": row.attention_fastest_ms,
                                                     "convolution ms": row.conv_fastest_ms},
                                 time.perf_counter() - start))
        try:
            sweep = attention_cost.measure_costs(settings, device, should_stop=should_stop, on_row=row_done)
        except attention_cost.BenchmarkStopped as stopped:
            sweep = stopped.partial
        if sweep is not None:
            store[LAST_SWEEP] = sweep
        return sweep
    return run


def estimate(settings: attention_cost.CostSettings, device: str) -> Estimate:
    found = attention_cost.estimate_costs(settings, device)
    return Estimate(tuple(EstimatePart(f"side {side}", seconds, 1, 1) for side, seconds in found.seconds_per_side),
                    torch.device(device).type, unit="size", basis=(
                        f"one call at side {found.probe_side} × {found.probe_side} took "
                        f"{found.attention_s * 1000:,.2f} ms (attention) and {found.conv_s * 1000:,.2f} ms "
                        f"(convolution), the median of 3 after warming up; scaled to each side by $N^2$ and $N$, × "
                        f"{found.calls_per_size} calls per size"))


def benchmark(settings: attention_cost.CostSettings, device: str) -> None:
    """Run measures again on every press (never a cached result), in this session's job, so
    Stop reaches it at once; the last sweep of this session, whole or partial, stays."""
    store = st.session_state.setdefault(LAST_SWEEP, {"rows": [], LAST_SWEEP: None})
    live = st.empty()

    def redraw(_: Progress) -> None:
        done = list(store["rows"])
        frame = pd.DataFrame({"tokens N": [r.tokens for r in done],
                              "attention ms": [r.attention_fastest_ms for r in done],
                              "convolution ms": [r.conv_fastest_ms for r in done]})
        with live.container():
            st.caption(f"Live: fastest call per size, {len(done)} of "
                       f"{len(attention_cost.sweep_sides(settings))} sizes measured")
            st.line_chart(frame, x="tokens N", y=["attention ms", "convolution ms"], height=220)

    run_training("conv", benchmark_job(settings, device, store), label="Run benchmark", unit="size",
                 on_report=redraw, live_curve=False, metric="attention ms", measures_time=True,
                 estimate=session_estimate("conv", (settings, device), lambda: estimate(settings, device)),
                 describe=lambda p: f"size {p.step} of {p.total} measured · {p.elapsed_s:.1f} s")
    live.empty()
    job, sweep = current_job("conv"), store[LAST_SWEEP]
    if job is not None and job.outcome is not None and job.outcome.stopped and job.outcome.steps_done == 0:
        st.info("Stopped before the first size was measured: nothing partial to keep"
                + ("; the last whole sweep is shown." if sweep is not None else "."), icon=":material/stop:")
    if sweep is None:
        st.caption(f"Press **Run benchmark**: sizes from 8 × 8 up to the largest side are timed on "
                   f"{device.upper()}; the estimate above says how long that should take.")
        return
    if sweep.stopped:
        st.warning(f"Partial result: stopped after {len(sweep.rows)} of "
                   f"{len(attention_cost.sweep_sides(sweep.settings))} sizes; the sizes measured are shown.",
                   icon=":material/stop_circle:")
    done = sweep.settings
    if (done, sweep.device) != (settings, device):
        st.caption("These results are for earlier settings; press Run benchmark to update.")
    slopes = {name: sweep.slope(name) for name in attention_cost.METHODS}
    flops = np.array([attention_cost.theory_flops(r.side, done.channels, done.kernel) for r in sweep.rows])
    m = st.columns(3)
    shown = {name: "n/a" if np.isnan(v) else f"{v:.2f}" for name, v in slopes.items()}
    why = "theory: {}. n/a: fewer than 2 sizes took twice the smallest size's time; raise the largest side."
    m[0].metric("attention slope (time ∝ N^slope)", shown["attention"], help=why.format(2))
    m[1].metric("convolution slope", shown["convolution"], help=why.format(1))
    ratio = (sweep.milliseconds("attention") / sweep.milliseconds("convolution"))
    ratio = ratio[np.isfinite(ratio)]
    m[2].metric("attention / conv at the largest measured N", f"{ratio[-1]:,.0f}×" if ratio.size else "n/a")
    show_chart(plots.cost_loglog(sweep.tokens, {name: sweep.milliseconds(name) for name in attention_cost.METHODS},
                                 slopes, {"attention": flops[:, 0], "convolution": flops[:, 1]}),
               key="conv_cost", filename="attention_vs_conv_cost")
    for name in attention_cost.METHODS:
        slow = sweep.out_of_order(name)
        if slow:
            st.warning(f"The {name} times do not grow with N: side {slow.smaller_side} took {slow.smaller_ms:,.2f} "
                       f"ms, more than the {slow.larger_ms:,.2f} ms of side {slow.larger_side}. Other work on this "
                       "machine slowed some sizes down, so its slope says little; press Run benchmark to measure "
                       "again.", icon=":material/speed:")
    for row in sweep.rows:
        if row.note:
            st.warning(f"Side {row.side} × {row.side} ({row.tokens:,} tokens): {row.note}.",
                       icon=":material/memory_alt:")
    frame = pd.DataFrame([{
        "side": r.side, "tokens N": r.tokens, "attention ms": r.attention_ms,
        "attention fastest ms": r.attention_fastest_ms, "conv ms": r.conv_ms, "conv fastest ms": r.conv_fastest_ms,
        "attention peak MiB": r.attention_peak_bytes / 2**20, "conv peak MiB": r.conv_peak_bytes / 2**20,
        "peak memory": r.memory_source, "note": r.note} for r in sweep.rows])
    st.dataframe(frame, hide_index=True, column_config={
        c: st.column_config.NumberColumn(c, format="%.3f") for c in frame.columns if "ms" in c or "MiB" in c})
    st.caption(f"Each point is the fastest of {done.repeats} calls (other work on a shared machine only "
               f"adds time; the medians are in the table), after {done.warmup} warm-up call per size, on "
               f"{sweep.device.upper()}, float32. Before the first size, each method was called until it "
               f"stopped getting faster: its first, cold call took {sweep.attention_cold_ms:,.2f} ms "
               f"(attention) and {sweep.conv_cold_ms:,.2f} ms (convolution). Slopes fit the largest 4 "
               "sizes that took at least twice as long as the fastest size (below that a call is mostly its "
               "fixed cost); theory "
               "curves pass through the largest measured point. Peak memory: "
               + ", ".join(sorted({r.memory_source for r in sweep.rows})) +
               ". The attention is seqviz's attention function with its weights returned, so the N × N "
               "matrix really exists; fused kernels such as FlashAttention avoid storing it, but still do "
               "$O(N^2)$ work. On a shared or busy CPU the small sizes are noisy: rerun to measure again.")


with cards.question_card(
    "How do the time and memory of attention over all pixels grow with the image?",
    r"An $H \times W$ image is $N = HW$ tokens. Self-attention forms all $N^2$ scores: $O(N^2 d)$ "
    r"time and an $N \times N$ matrix in memory, so doubling the side multiplies $N$ by 4 and the cost "
    r"by 16. A $k \times k$ convolution does $k^2 C_\text{in} C_\text{out}$ multiply-adds per pixel: "
    r"$O(N k^2 C^2)$, linear in $N$. On a log-log "
    "plot the slopes are 2 and 1. Small sizes sit above the lines because every call has a fixed "
    r"overhead; the slopes are fitted on the largest sizes. When the $N \times N$ matrices would not fit "
    "in the memory budget, attention is skipped before anything is allocated, while the "
    "convolution, which never needs them, keeps going: raise the largest side to see it.",
    expanded=True,
):
    chosen = benchmark_settings()
    benchmark(chosen, str(sidebar.device_for("batched")))
    cards.show_code(attention_cost.measure_costs)
