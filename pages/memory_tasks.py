"""Memory tasks: RNN vs LSTM vs GRU vs TCN, trained live or from the shipped checkpoints."""

import streamlit as st
import torch

from seqviz.core import memory as memory_budget
from seqviz.plots import recurrent as plots
from seqviz.recurrent import cells, seeds, tasks, tcn
from seqviz.recurrent import train as mt
from seqviz.ui import cards, params, presets, registry, sidebar
from seqviz.ui.charts import show_chart
from seqviz.ui.recurrent import memory
from seqviz.ui.recurrent.models import seed_runs, session_results, shipped_model
from seqviz.ui.training import run_training, session_estimate

registry.ensure_router()

KINDS = ("rnn-tanh", "lstm", "gru", "tcn")
SHIPPED = mt.MemoryConfig()

st.title("Memory tasks: RNN vs LSTM vs TCN")
presets.picker(__file__)
st.markdown(
    "Each sequence is blank (·) except for one token, 1, 2 or 3, somewhere in it, and a "
    "request (?) at the last step; the model must answer with the token. In **memory** the "
    "token's position is drawn from the same range for training and validation; in "
    "**memorygen** training puts it in the first half and validation in the second half. "
    "Until you press Train, the curves come from the shipped checkpoints (seed 0) for the "
    "default settings; further down, the same training repeated over many seeds.")

left, mid, right = st.columns(3)
task = params.choice("Task", tasks.TASKS, "memory", key="mem_task", container=left, horizontal=True)
length = params.log_select_slider("Sequence length", [5, 10, 20, 40, 80, 160, 320, 640, 1000],
                                  SHIPPED.length, key="mem_len", container=left)
hidden = params.log_select_slider("Hidden size", [2, 4, 8, 16, 32, 64, 128, 256, 512],
                                  SHIPPED.hidden, key="mem_hid", container=mid)
steps = params.log_select_slider("Training steps", [10, 25, 50, 100, 200, 400, 800, 1600],
                                 SHIPPED.steps, key="mem_steps", container=mid)
lr = params.log_select_slider("Learning rate (Adam)", [1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1,
                                                       0.3, 1.0, 3.0, 10.0],
                              SHIPPED.lr, key="mem_lr", container=right)
right.caption("Models")
chosen = [k for k in KINDS + ("rnn-relu",)
          if params.toggle(plots.MODEL_NAMES[k], k in ("rnn-tanh", "lstm", "tcn"),
                           key=f"mem_{k.replace('-', '_')}", container=right)]
device = sidebar.device_for("sequential")
configs = {k: mt.MemoryConfig(task=task, kind=k, length=length, hidden=hidden, steps=steps, lr=lr,
                              seed=sidebar.seed(), eval_every=max(1, steps // 16)) for k in chosen}
budgets = {k: memory_budget.check(mt.training_memory_bytes(k, c.batch, length, hidden), device,
                           f"training the {plots.MODEL_NAMES[k]} at length {length}, hidden {hidden}")
           for k, c in configs.items()}
too_big = {k: b for k, b in budgets.items() if not b.fits}
if too_big:
    st.warning("Refused, and left out of the run: " + "; ".join(b.message for b in too_big.values())
               + ". Shorten the sequence or the hidden size.", icon=":material/memory:")
if not chosen:
    st.info("Switch on at least one model on the right.")


def training_panel() -> None:
    """Not a fragment: a click inside a running fragment waits for it to end (Streamlit 1.67),
    so Stop could not reach the job; a full rerun interrupts the watching at once."""
    trainable = [configs[k] for k in chosen if k not in too_big]
    estimate = session_estimate("mem_train", (tuple(trainable), str(device)),
                                lambda: memory.estimate(trainable, device)) if trainable else None
    run_training("mem_train", memory.train_models(trainable, device, session_results()),
                 label=f"Train {len(trainable)} model(s) on {device.type.upper()}",
                 describe=memory.describe(trainable), estimate=estimate,
                 memory_bytes=max((budgets[c.kind].need for c in trainable), default=0))
    sources = memory.curve_sources(chosen, configs, session_results(), shipped_model)
    st.table(memory.sources_table(sources), hide_index=True)
    shown = {s.kind: s.history for s in sources if s.history}
    if not shown:
        st.info("No curves for these models and settings yet: checkpoints are shipped for the "
                f"RNN (tanh), LSTM, GRU and TCN at length {SHIPPED.length}, hidden size "
                f"{SHIPPED.hidden}, {SHIPPED.steps} steps, learning rate {SHIPPED.lr}. Press Train.")
        return
    show_chart(plots.training_curves(shown, f"{task}: validation (solid) and training batches (dotted)",
                                     {s.kind: s.label for s in sources}),
               key="mem_curves", filename=f"{task}_curves")
    x, y = tasks.memory_task(1, length, seed=sidebar.seed(), generalize=task == "memorygen", split="val")
    st.markdown("**One validation sequence:** `" + " ".join(
        plots.SYMBOLS[int(s)] for s in x[0]) + f"` → right answer **{int(y[0])}**")
    with torch.no_grad():
        answers = {s.kind: s.model(x).outputs[0, -1].softmax(-1).numpy() for s in sources
                   if s.model is not None}
    show_chart(plots.prediction_bars(answers, int(y[0])), key="mem_answer", filename="memory_task_answer")
    finals = st.columns(len(shown))
    for column, (kind, points) in zip(finals, shown.items()):
        column.metric(f"{plots.MODEL_NAMES[kind]} val accuracy", f"{points[-1].val_accuracy:.1%}")


training_panel()

runs = seed_runs()
with cards.question_card(
        f"One run is one draw: what do {len({r.seed for r in runs})} seeds say about memorygen?",
        "Which rule a network finds depends on its initial weights and on the order of its batches, "
        "so the same training is repeated here with seeds 0 to "
        f"{max(r.seed for r in runs)} (`python -m seqviz.recurrent.seeds`, the shipped settings: "
        f"length {SHIPPED.length}, hidden {SHIPPED.hidden}, {SHIPPED.steps} steps). On **memory** every "
        "model reaches at least "
        f"{min(r.val_accuracy for r in runs if r.task == 'memory'):.0%} in every seed. "
        "On **memorygen**:\n\n" + memory.seed_findings(runs)):
    st.table(memory.seeds_table(runs), hide_index=True)
    st.caption("mean ± standard deviation [lowest–highest] over the seeds; 'fits training' is the "
               "accuracy on fresh sequences from the training distribution. The shipped checkpoint "
               "is seed 0: one draw among these.")
    metric = params.choice("Show", ("val_accuracy", "fit_accuracy"), "val_accuracy", key="mem_seed_metric",
                           horizontal=True, format_func=lambda m: {"val_accuracy": "validation accuracy",
                                                                   "fit_accuracy": "fits training"}[m])
    show_chart(plots.seed_strip(runs, "memorygen", metric, SHIPPED.seed), key="mem_seeds",
               filename="memorygen_seeds")
    cards.show_code(seeds.score_run, seeds.summarise)

depth = tcn.tcn_depth(length)
padded = tcn.KERNEL ** depth
with cards.question_card(
        "How are the four models built?",
        "The RNN, LSTM and GRU are written from `nn.Linear` layers and an explicit loop over time; the "
        "LSTM computes all four gates (input, forget, candidate, output) with **one** linear layer on "
        r"$[x_t, h_{t-1}]$. Each equals torch's own cell with copied weights (tests/unit/test_rnn.py). The "
        "TCN stacks convolutions with kernel size = stride = 3, so each layer merges windows of 3 and a "
        "unit after $l$ layers sees $3^l$ inputs. To see all $L$ steps it needs "
        r"$\lceil \log_3 L \rceil$ layers: at the "
        f"length chosen above, $L = {length}$, that is **{depth} layers**, seeing $3^{{{depth}}} = {padded}$ "
        f"steps, so the sequence is padded with {padded - length} zeros **at the end** (after the "
        "request). Its convolution has no Python loop over positions: `unfold` cuts the windows, one "
        "matrix product applies the kernel."):
    cards.show_code(cells.RNNCell, cells.LSTMCell, cells.LSTM.forward, cells.GRUCell, tcn.Conv1d, tcn.TCN,
                    tcn.tcn_depth)

st.caption(f"Training runs on {device.type.upper()} (Auto keeps these small sequential loops on "
           "the CPU; see bench/train_rnn.py).")
