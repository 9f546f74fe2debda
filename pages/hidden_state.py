"""Hidden state vs output: the memory sits in h_t long before y_t shows it."""

import numpy as np
import streamlit as st
import torch

from seqviz.plots import linked as linked_plots
from seqviz.plots import memo
from seqviz.plots import recurrent as recurrent_plots
from seqviz.recurrent import probe, tasks
from seqviz.ui import cards, params, presets, registry, sidebar
from seqviz.ui.charts import show_chart
from seqviz.ui.recurrent.models import session_results, shipped_model, untrained_model

# figures built once per input, for every session
linked, plots = memo.figures(linked_plots), memo.figures(recurrent_plots)

registry.ensure_router()


@st.cache_data(show_spinner=False, max_entries=256)
def shared_probe(trained: bool, kind: str, length: int, position: int, seed: int
                 ) -> probe.ProbeResult:
    """The probe on a model every session shares (shipped, or untrained from the seed)."""
    model = shipped_model("memory", kind) if trained else untrained_model(kind, seed)
    return probe.probe_accuracy(model, length, position, seed=seed)


KINDS = ("rnn-tanh", "lstm", "gru")
SOURCES = ("shipped checkpoint", "trained in this session", "untrained")

st.title("Hidden state vs output")
presets.picker(__file__)
st.markdown(
    "A recurrent network keeps a hidden state and answers through a readout:\n\n"
    "$$\n" r"h_t = \tanh(W_{xh} x_t + W_{hh} h_{t-1} + b_h), \qquad y_t = W_{hy} h_t + b_y" "\n$$"
    "\n\nThe models here were trained to answer "
    "class 0, *nothing asked yet*, at every step before the request, and the token at the "
    "request. Edit the input and watch where the token is kept.")

left, mid, right = st.columns(3)
NAMES = {plots.MODEL_NAMES[k]: k for k in KINDS}
kind = NAMES[params.choice("Model", list(NAMES), "LSTM", key="hid_kind", container=left,
                           horizontal=True)]
source = params.choice("Weights", SOURCES, SOURCES[0], key="hid_source", container=left)
length = params.slider("Sequence length", 5, 60, 20, key="hid_len", container=mid)
position = params.slider("Token position", 0, 58, 5, key="hid_pos", container=mid)
token = params.slider("Token", 1, 3, 2, key="hid_token", container=right)
if position > length - 2:
    st.warning(f"Position {position} is not before the request at step {length - 1}; "
               f"using position {length - 2}.")
    position = length - 2

model, trained = shipped_model("memory", kind), True
if source == SOURCES[1]:
    run = next((r for (_, k), r in session_results().items()
                if k == kind and r.model is not None and r.history), None)
    if run is None:
        st.info(f"No {plots.MODEL_NAMES[kind]} has been trained in this session yet: train one "
                "on the *Memory tasks* page. Showing the shipped checkpoint meanwhile.",
                icon=":material/info:")
    else:
        model = run.model  # kept on the CPU by the training job: used where it is
        st.caption(f"This session's model: {run.config.task}, length {run.config.length}, "
                   f"hidden {run.config.hidden}, {run.status}.")
elif source == SOURCES[2]:
    model, trained = untrained_model(kind, sidebar.seed()), False

x = torch.zeros(length, dtype=torch.long)
x[position], x[-1] = int(token), tasks.REQUEST
run = probe.trace(model, x)
symbols = x.numpy()

with cards.question_card(
    "Where is the token between the moment it is seen and the request?",
    "In $h_t$. From the step the token arrives, some units of the hidden state take a value "
    "that depends on which token it was and hold it until the request. The readout $y_t$ is "
    "only a linear projection of $h_t$, and it was trained to say *nothing yet* until the "
    "request, so the output trace stays on class 0 while the heatmap already differs from "
    "one token to the next (switch the token to see which units change). Information in the "
    "state does not have to be visible in the output.", expanded=True):
    st.caption("Point at a time step in either chart: the same step is marked in both, and the bars "
               "below show the whole vector $h_t$ and the output distribution at that step.")
    inputs = [plots.SYMBOLS.get(int(s), str(s)) for s in symbols]
    states, outputs = linked.hidden_output_frames(run.hidden, run.probabilities, inputs, plots.CLASS_NAMES)
    st.vega_lite_chart(spec=linked.hidden_output_linked(run.hidden, run.probabilities, inputs,
                                                        plots.CLASS_NAMES), key="hid_linked")
    st.download_button("Download data (CSV)", lambda: states.merge(outputs, on=["step", "input"]).to_csv(
        index=False), file_name="hidden_state_and_output.csv", mime="text/csv", key="hid_linked_csv",
        on_click="ignore", icon=":material/download:")
    answer = int(run.probabilities[:, -1].argmax())
    st.markdown(f"Answer at the request: **{plots.CLASS_NAMES[answer]}** "
                f"({run.probabilities[answer, -1]:.1%}); the right answer is token {token}.")

with cards.question_card(
    "Can a linear probe read the token from $h_t$ before $y_t$ shows it?",
    "For every step t we fit a linear classifier from $h_t$ to the token on 300 sequences with "
    "the token at the position you chose, and score it on 300 others. Before the token it "
    "sits at chance (1/3): nothing to read. From the token's step on, a trained network's "
    "state gives it away almost perfectly, while the output's own argmax names the token "
    "only at the request. The probe is a measuring tool; the model never uses it."):
    if not trained:
        st.warning("This model is untrained: its readout $W_{hy}$ was never fitted, so $y_t$ means "
                   "nothing, and the probe only measures what random recurrent dynamics happen "
                   "to keep. Expect the token to fade from $h_t$ within a few steps. Choose the "
                   "shipped checkpoint to see a trained memory.", icon=":material/school:")
    result = (shared_probe(trained, kind, length, position, sidebar.seed())
              if source != SOURCES[1] or model is shipped_model("memory", kind)
              else probe.probe_accuracy(model, length, position, seed=sidebar.seed()))
    curves = {"probe on hₜ": result.hidden, "output yₜ (argmax)": result.output}
    if result.cell is not None:
        curves["probe on cₜ"] = result.cell
    show_chart(plots.probe_curves(curves, position), key="hid_probe", filename="hidden_state_probe")
    readable = np.nonzero(result.hidden[position:] > 0.9)[0]
    shown = np.nonzero(result.output[position:] > 0.9)[0]
    cols = st.columns(2)
    cols[0].metric("First step the probe reads it (>90%)",
                   f"t = {position + readable[0]}" if len(readable) else "never")
    cols[1].metric("First step $y_t$ names it (>90%)",
                   f"t = {position + shown[0]}" if len(shown) else "never")
    cards.show_code(probe.probe_accuracy)

if run.cell is not None:
    with cards.question_card(
        "What do the LSTM's cell state and gates do?",
        "The cell state $c_t$ is the LSTM's long-term store:\n\n"
        "$$\n" r"c_t = f \odot c_{t-1} + i \odot g" "\n$$"
        "\n\nWhen "
        "the token arrives the input gate i opens and the candidate g writes it in; on the "
        "blanks after it the forget gate f stays near 1 for the units that hold it, so the "
        "value is carried by addition rather than squashed again at every step. The output "
        "gate o decides how much of $\\tanh(c_t)$ appears in $h_t$."):
        show_chart(plots.state_heatmap(run.cell, symbols, "Cell state cₜ (units × time)"),
                   key="hid_cell", filename="cell_state")
        show_chart(plots.gate_heatmaps(run.gates, symbols), key="hid_gates", filename="lstm_gates")
