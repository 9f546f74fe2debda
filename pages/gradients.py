"""Gradients across sequence length, the spectrum of W_hh, and how much a hidden state holds."""

import pandas as pd
import streamlit as st

from seqviz.plots import recurrent as plots
from seqviz.recurrent import capacity, gradients, spectrum
from seqviz.recurrent import train as mt
from seqviz.ui import cards, params, presets, registry, sidebar
from seqviz.ui.charts import show_chart
from seqviz.ui.recurrent import gradients as per_model
from seqviz.ui.recurrent.models import capacity_rows

registry.ensure_router()

SHIPPED = mt.MemoryConfig()
NAMES = plots.MODEL_NAMES

st.title("Gradients across sequence length")
presets.picker(__file__)
st.markdown(
    "The loss sits at the last step. How much of it reaches step $t$ is "
    r"$\lVert \partial L / \partial h_t \rVert$, and "
    "backpropagation multiplies it by one Jacobian per step on the way back. Every curve "
    "below comes from **one** backward pass with all $h_t$ kept, on a memory-task sequence.")

left, mid, right = st.columns(3)
length = params.log_select_slider("Sequence length", [10, 20, 50, 100, 200, 500, 1000, 2000],
                                  200, key="grad_len", container=left)
hidden = params.log_select_slider("Hidden size", [4, 8, 16, 32, 64, 128, 256], 64,
                                  key="grad_hid", container=left)
rho = params.slider(r"$\rho$: $W_{hh} = \rho \times$ orthogonal", 0.5, 1.5, 1.0, key="grad_rho", step=0.05,
                    container=mid)
forget_bias = params.slider("LSTM forget-gate bias $b_f$", 0.0, 5.0, 1.0, key="grad_fb", step=0.5,
                            container=mid)
weights = params.choice("Weights", ("fresh", "trained"), "fresh", key="grad_weights",
                        container=right, horizontal=True)
clip = params.toggle("Clip the gradient norm", False, key="grad_clip_on", container=right)
max_norm = params.log_select_slider("Clip threshold", [0.01, 0.1, 1.0, 10.0], 1.0, key="grad_clip",
                                    container=right, disabled=not clip)
seed = sidebar.seed()

requested, notes = per_model.requests(weights, length, hidden, rho, forget_bias, seed)
profiles = per_model.profiles(requested)
if weights == "trained":
    notes.append(f"trained models have hidden size {SHIPPED.hidden}; $\\rho$ and $b_f$ do not apply")
    st.caption("Trained: the shipped memory-task checkpoints. " + "; ".join(notes) + ".")

with cards.question_card(
    "How fast does the gradient fade with distance from the loss?",
    r"$\partial L / \partial h_t$ is $\partial L / \partial h_T$ multiplied by $T - t$ Jacobians, "
    r"each $\operatorname{diag}(f') \, W_{hh}$ for a tanh RNN:"
    "\n\n"
    "$$\n" r"\frac{\partial L}{\partial h_t} = \frac{\partial L}{\partial h_T} "
    r"\prod_{s=t+1}^{T} \operatorname{diag}\big(f'(a_s)\big) \, W_{hh}" "\n$$"
    "\n\n"
    r"With $W_{hh} = \rho \times$ orthogonal every singular value is $\rho$ and $\tanh' \le 1$, "
    r"so for $\rho < 1$ the norm must fall at least as fast as $\rho^{T-t}$: a straight line going "
    r"down on this log axis. Raise $\rho$ above 1 and it can grow instead, until tanh saturates. The ReLU RNN has "
    "no saturation to stop growth: its values can overflow, or its answer become so certain that "
    "the gradient is exactly 0; both are flagged below instead of being read as a horizon. The "
    r"LSTM's cell path $c_t = f \odot c_{t-1} + \dots$ multiplies the gradient by the forget gate "
    "$f$ instead: raise $b_f$ to push $f$ towards 1 and the curve flattens. The TCN has no chain over time: every "
    "input is the same few layers away from the output, so its curve (the gradient at each input "
    "position) does not fade. Clipping rescales the whole gradient when its norm passes a "
    "threshold: it moves a curve down as a block, which tames explosions, but it cannot lift the "
    "far end of a vanishing curve, and it has nothing to rescale by when the norm is infinite."):
    readings = {k: gradients.read_gradient(p) for k, p in profiles.items()}
    shown = {k: p.clipped(max_norm if clip else None) for k, p in profiles.items()}
    show_chart(plots.gradient_norms(shown, length, {k: r.note for k, r in readings.items() if r.flagged}),
               key="grad_norms", filename="gradient_norms")
    st.caption("A curve that stops has fallen below about 1e-38, where float32 gives up and the "
               "gradient is exactly 0: nothing at all reaches those steps.")
    for column, (kind, profile) in zip(st.columns(len(profiles)), profiles.items()):
        reading = readings[kind]
        column.metric(f"{NAMES[kind]} horizon", reading.label,
                      help=r"Steps back from the loss until $\lVert \partial L / \partial h_t \rVert$ is 1000× "
                           "smaller than at the "
                           "last step; 'grows' when instead it becomes 1000× larger somewhere.")
        if reading.explanation:
            column.caption(reading.explanation)
        factor = profile.clip_factor(max_norm if clip else None)
        if clip and factor is not None:
            column.caption(f"clipped ×{factor:.2g}")
        elif clip and reading.parameter_overflow:
            column.caption(r"not clipped: $\lVert \partial L / \partial \theta \rVert$ is not finite.")
    cards.show_code(gradients.gradient_profile, gradients.read_gradient, gradients.memory_horizon)

spectra = per_model.spectra(requested)
tanh = spectra["rnn-tanh"]
verdict = (rf"Here the tanh RNN's $\sigma_{{\max}} = {tanh.sigma_max:.3f} < 1$, so its gradient must shrink "
           "by at least "
           f"that factor per step back." if tanh.vanishing_guaranteed() else
           rf"Here the tanh RNN's $\sigma_{{\max}} = {tanh.sigma_max:.3f} \ge 1$: the sufficient condition "
           "does not hold, "
           "and nothing is guaranteed either way; the curve above shows what happens.")
with cards.question_card(
    "What do the eigenvalues and singular values of $W_{hh}$ say?",
    r"One step back multiplies $\partial L / \partial h$ by $\operatorname{diag}(f') \, W_{hh}^\top$, "
    r"whose norm is at most $\gamma \, \sigma_{\max}$: $\sigma_{\max}$ is the "
    r"largest singular value of $W_{hh}$ and $\gamma$ bounds $|f'|$ ($\gamma = 1$ for tanh). So for a tanh RNN "
    r"**$\sigma_{\max} < 1$ is sufficient for the gradient to vanish** (Pascanu, Mikolov & Bengio 2013, *On the "
    "difficulty of training recurrent neural networks*, ICML, section 2.1); "
    r"$\sigma_{\max} > 1$ is necessary "
    "for it to explode, not sufficient. The eigenvalues are not that test: every "
    r"$|\lambda| \le \sigma_{\max}$, and a "
    r"non-normal $W_{hh}$ can have all its eigenvalues inside the unit circle while $\sigma_{\max} > 1$, so the "
    r"gradient can grow for a while before it fades. With $\rho \times$ orthogonal the two agree (every "
    r"$|\lambda|$ and every singular value is $\rho$); trained matrices are not orthogonal, so compare "
    r"the dotted $\sigma_{\max}$ "
    "circle with the points. For the LSTM and GRU the matrix shown is the block that feeds the "
    f"candidate; their gates multiply the Jacobian too, so the bound is only indicative. {verdict}"):
    show_chart(per_model.eigen_figure(requested), key="grad_eigen", filename="eigenvalues")
    st.table(pd.DataFrame([{"model": NAMES[k], "σₘₐₓ (largest singular value)": round(s.sigma_max, 4),
                                "max |λ| (spectral radius)": round(s.spectral_radius, 4),
                                "σₘₐₓ < 1": "yes" if s.vanishing_guaranteed() else "no"}
                               for k, s in spectra.items()]), hide_index=True)
    cards.show_code(spectrum.spectrum, spectrum.Spectrum.vanishing_guaranteed)

rows = capacity_rows()
summaries = capacity.summarise(rows)
recall_figure, trainability_figure = per_model.shipped_figures()
with cards.question_card(
    "How much can a hidden state of a given size hold?",
    r"$h_t$ has a fixed number of units. In **recall-k** the network sees $k$ tokens from $\{1, 2, 3\}$ "
    r"($k \log_2 3$ bits), then must give them back in order after the request, so all $k$ must be in "
    "$h_t$ at once; every token waits the same number of steps, so only the amount of information "
    "grows with k. " + per_model.capacity_findings(rows, summaries)):
    show_chart(recall_figure, key="grad_capacity", filename="capacity_recall")
    per_model.live_recall_point(summaries, sidebar.device_for("sequential"), seed)
    cards.show_code(capacity.train_recall, capacity.bits_recalled)

sweep = pd.read_csv(capacity.SWEEP_FILE)
with cards.question_card(
    "Trainability: how far back does training reach, for several hidden sizes?",
    "A different question from the one above: here the task is the one-token memory task "
    r"($\log_2 3$ bits, whatever the length) and the sequence grows, so what fails first is not room "
    "in $h_t$ but whether 400 training steps find a signal that must travel back through every "
    "step. This measures trainability, not capacity, on "
    f"{sweep['seed'].nunique() if 'seed' in sweep else 1} seed(s) per point (mean; bars: lowest–highest; "
    "`python -m seqviz.recurrent.capacity --trainability`)."):
    show_chart(trainability_figure, key="grad_trainability", filename="trainability_sweep")
