"""Gradients across sequence length, and the capacity of the hidden state."""

import pandas as pd
import streamlit as st

from seqviz.core.train import Progress
from seqviz.plots import recurrent as plots
from seqviz.recurrent import gradients
from seqviz.recurrent import train as mt
from seqviz.ui import cards, params, registry, sidebar
from seqviz.ui.cache import cached
from seqviz.ui.charts import show_chart
from seqviz.ui.recurrent.models import shipped_model
from seqviz.ui.training import run_training

registry.ensure_router()

SHIPPED = mt.MemoryConfig()


@st.cache_data(show_spinner=False, max_entries=64)
def trained_profile(kind: str, length: int, seed: int, device: str) -> gradients.GradientProfile:
    return gradients.gradient_profile(kind, length, SHIPPED.hidden, seed=seed, device=device,
                                      model=shipped_model("memory", kind))


st.title("Gradients across sequence length")
st.markdown(
    "The loss sits at the last step. How much of it reaches step t is ||dL/dh_t||, and "
    "backpropagation multiplies it by one Jacobian per step on the way back. Every curve "
    "below comes from **one** backward pass with all h_t kept, on a memory-task sequence.")

left, mid, right = st.columns(3)
length = params.log_select_slider("Sequence length", [10, 20, 50, 100, 200, 500, 1000, 2000],
                                  200, key="grad_len", container=left)
hidden = params.log_select_slider("Hidden size", [4, 8, 16, 32, 64, 128, 256], 64,
                                  key="grad_hid", container=left)
rho = params.slider("ρ: W_hh = ρ × orthogonal", 0.5, 1.5, 1.0, key="grad_rho", step=0.05,
                    container=mid)
forget_bias = params.slider("LSTM forget-gate bias b_f", 0.0, 5.0, 1.0, key="grad_fb", step=0.5,
                            container=mid)
weights = params.choice("Weights", ("fresh", "trained"), "fresh", key="grad_weights",
                        container=right, horizontal=True)
clip = params.toggle("Clip the gradient norm", False, key="grad_clip_on", container=right)
max_norm = params.log_select_slider("Clip threshold", [0.01, 0.1, 1.0, 10.0], 1.0, key="grad_clip",
                                    container=right, disabled=not clip)
device = sidebar.device_for("sequential")
seed = sidebar.seed()

profiles, notes = {}, []
with st.spinner(f"Backpropagating through {length:,} steps for 5 models…"):
    for kind in gradients.GRADIENT_KINDS:
        use_trained = (weights == "trained" and kind != "rnn-relu"
                       and (kind != "tcn" or length <= 27))
        if weights == "trained" and not use_trained:
            notes.append(f"{plots.MODEL_NAMES[kind]}: fresh weights (" + (
                "no shipped ReLU RNN" if kind == "rnn-relu" else
                "the shipped TCN has 3 layers and sees at most 27 steps") + ")")
        profiles[kind] = sidebar.run_on_device(
            lambda dev, kind=kind, use_trained=use_trained: (
                trained_profile(kind, length, seed, str(dev)) if use_trained else
                cached(gradients.gradient_profile)(  # only the arguments a model uses: cache hits
                    kind, length, hidden, rho=1.0 if kind == "tcn" else rho, seed=seed,
                    device=str(dev), forget_bias=forget_bias if kind == "lstm" else None)),
            "sequential")
if weights == "trained":
    notes.append(f"trained models have hidden size {SHIPPED.hidden}; ρ and b_f do not apply")
    st.caption("Trained: the shipped memory-task checkpoints. " + "; ".join(notes) + ".")

with cards.question_card(
    "How fast does the gradient fade with distance from the loss?",
    "dL/dh_t is dL/dh_T multiplied by T − t Jacobians, each diag(f′) W_hh for a tanh RNN. "
    "With W_hh = ρ × orthogonal every singular value is ρ and tanh′ ≤ 1, so for ρ < 1 the "
    "norm must fall at least as fast as ρ^(T−t): a straight line going down on this log "
    "axis. Raise ρ above 1 and it can grow instead, until tanh saturates. The ReLU RNN has "
    "no saturation to stop growth. The LSTM's cell path c_t = f ⊙ c_{t−1} + … multiplies the "
    "gradient by the forget gate f instead: raise b_f to push f towards 1 and the curve "
    "flattens. The TCN has no chain over time: every input is the same few layers away from "
    "the output, so its curve (the gradient at each input position) does not fade. Clipping "
    "rescales the whole gradient when its norm passes a threshold: it moves a curve down as a "
    "block, which tames explosions, but it cannot lift the far end of a vanishing curve."):
    shown = {k: p.clipped(max_norm if clip else None) for k, p in profiles.items()}
    show_chart(plots.gradient_norms(shown, length), key="grad_norms", filename="gradient_norms")
    st.caption("A curve that stops has fallen below about 1e-38, where float32 gives up and the "
               "gradient is exactly 0: nothing at all reaches those steps.")
    cols = st.columns(len(profiles))
    for column, (kind, profile) in zip(cols, profiles.items()):
        horizon = gradients.memory_horizon(profile.norms)
        column.metric(f"{plots.MODEL_NAMES[kind]} horizon",
                      f"{horizon} steps" if horizon is not None else f"> {length - 1}",
                      help="Steps back from the loss until ||dL/dh_t|| is 1000× smaller than "
                           "at the last step.")
        if clip and profile.parameter_grad_norm > max_norm:
            column.caption(f"clipped ×{max_norm / profile.parameter_grad_norm:.2g}")
    cards.show_code(gradients.gradient_profile, gradients.memory_horizon)

with cards.question_card(
    "What do the eigenvalues of W_hh say?",
    "Near a fixed point the state evolves like h_t ≈ W_hh h_{t−1} (times tanh′), so a "
    "component along an eigenvector is multiplied by its eigenvalue λ at every step. "
    "|λ| < 1 (inside the circle) fades like |λ|^k, |λ| > 1 grows. ρ × orthogonal puts "
    "every eigenvalue on the circle of radius ρ. Training moves them: compare fresh and "
    "trained. For the LSTM and GRU the matrix shown is the block that feeds the candidate."):
    show_chart(plots.eigenvalue_plot({k: p.eigenvalues for k, p in profiles.items()
                                      if len(p.eigenvalues)}),
               key="grad_eigen", filename="eigenvalues")

with cards.question_card(
    "Does a bigger hidden state remember over longer sequences?",
    "h_t has a fixed size, and each extra step of blanks has to be survived by the state and "
    "by the gradient that teaches it. With the same training budget, accuracy on the memory "
    "task falls towards chance (1/3) as the sequence grows; more hidden units push the "
    "drop further out, and the LSTM further still. The shipped sweep was made with "
    "`python -m seqviz.recurrent.train --sweep --seed 0` (400 steps per point)."):
    sweep = pd.read_csv(mt.SWEEP_FILE)
    show_chart(plots.capacity_curves(sweep, "Shipped sweep: memory task, 400 training steps"),
               key="grad_capacity", filename="capacity_sweep")

    @st.fragment
    def live_sweep() -> None:
        st.caption("Recompute a small version here: tanh RNN, hidden 2 and 16, lengths 5, 10, "
                   "20, 150 steps each (about half a minute on a laptop CPU).")
        rows = st.session_state.setdefault("grad_live_sweep", [])

        def run(on_progress):
            rows.clear()
            for index, hidden_size in enumerate((2, 16)):
                for j, length_ in enumerate((5, 10, 20)):
                    rows.extend(mt.capacity_sweep("rnn-tanh", (hidden_size,), (length_,), steps=150,
                                                  seed=seed, device=str(device)))
                    on_progress(Progress(index * 3 + j + 1, 6, {"loss": 0.0}, 0.0))

        run_training("grad_sweep", run, label="Recompute live",
                     describe=lambda p: f"run {p.step}/6")
        if rows:
            show_chart(plots.capacity_curves(pd.DataFrame(rows), "Live sweep (this session)"),
                       key="grad_capacity_live", filename="capacity_live")

    live_sweep()
