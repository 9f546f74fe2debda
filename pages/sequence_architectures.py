"""Sequence architectures: which input/output pattern, with a CNN or an RNN, fits which task."""

import pandas as pd
import streamlit as st

from seqviz.core import rng
from seqviz.plots import architectures, memo
from seqviz.recurrent import architectures as arch
from seqviz.recurrent import cells, pattern_networks
from seqviz.ui import cards, params, presets, registry, sidebar
from seqviz.ui.charts import show_chart

diagrams = memo.figures(architectures)   # figures built once per input, for every session

registry.ensure_router()

NAMES = {p.key: p.name for p in arch.PATTERNS}
QUIZ, PICK = "_arch_quiz_state", "arch_pick"

st.title("Sequence architectures: which shape for which task?")
presets.picker(__file__)
st.markdown(
    "Before choosing layers, ask two questions of a task: is its input **one item or a sequence**, and is "
    "its output? The four answers give the patterns below; when both sides are sequences, a third question "
    "splits them: does every output step belong to an input step (**aligned**), or do the lengths and the "
    "order differ (**unaligned**, an encoder-decoder)? A CNN is the tool for what lies within one item (the "
    "pixels of an image or a frame); a recurrent state, or attention, for what lies between the steps.")

with cards.question_card(
        "How does each pattern unfold in time, and how many recurrent steps does it run?",
        "Unrolling draws the network once per time step; the arrow from $h_{t-1}$ to $h_t$ applies the same "
        "weights $W_{hh}$ at every step, and the state is the only road from earlier steps to later ones. "
        "**One-to-one** has no time axis at all. **One-to-many** reads its item once and keeps writing, "
        "feeding each output back in, so each word depends on the ones already written. **Many-to-one** "
        "reads only its last state, so whatever the answer needs must survive the whole sequence (the "
        "*Memory tasks* page measures how long it does). **Aligned** answers at every step, from the inputs "
        "seen so far. The **encoder-decoder** reads all $T_\text{in}$ inputs before it writes anything; the two "
        "lengths are free, and the whole input must pass through one context vector of size H (attention, "
        "on the captioning page, lets the decoder look back at every encoder state instead). Below the "
        "diagram, the pattern's network runs for real: untrained weights and input drawn from the sidebar's "
        "seed, so it shows shapes and steps, not sensible answers.", expanded=True):
    left, mid, right = st.columns([2, 1, 1])
    key = params.choice("Pattern", list(NAMES), "many-to-one", key="arch_pattern", container=left,
                        format_func=NAMES.__getitem__)
    pattern = arch.pattern(key)
    t_in = params.slider(r"Input length $T_\text{in}$", 1, 8, 4, key="arch_t_in", container=mid,
                         disabled=not pattern.input_sequence)
    t_out = params.slider(r"Output length $T_\text{out}$", 1, 8, 3, key="arch_t_out", container=right,
                          disabled=not pattern.output_sequence or pattern.aligned)
    T_in, T_out = arch.lengths(key, t_in, t_out)
    left.caption(f"{pattern.description} Lengths used: $T_\text{{in}} = {T_in}$, $T_\text{{out}} = {T_out}$.")
    show_chart(diagrams.unrolled_diagram(key, t_in, t_out), key="arch_diagram", filename=f"{key}_unrolled")
    st.caption(diagrams.arrow_key(key, t_in, t_out))
    run = sidebar.run_on_device(lambda device: arch.run_pattern(key, t_in, t_out, rng.torch_generator(sidebar.seed()),
                                                                device), "sequential")
    cols = st.columns(3)
    cols[0].metric("Input shape", str(run.input_shape), help="(batch, [steps,] features d)")
    cols[1].metric("Output shape", str(run.output_shape), help="(batch, [steps,] classes)")
    cols[2].metric("Recurrent steps run", run.recurrent_steps, help="counted by the network's loops as they ran")
    st.table(pd.DataFrame(run.state_shapes, columns=["state", "shape"]).astype(str), hide_index=True)
    st.markdown(run.steps_sentence())
    if pattern.example.page:
        st.page_link(pattern.example.page, label=f"See it live: {pattern.example.label}",
                     query_params=pattern.example.query_params, icon=":material/open_in_new:")
    st.caption(pattern.example.note)
    cards.show_code(*pattern_networks.PARTS[key], cells.RNNCell, arch.run_pattern)


def show_example(example: arch.Example) -> None:
    if example.page:
        st.page_link(example.page, label=example.label, query_params=example.query_params,
                     icon=":material/play_circle:" if example.live else ":material/near_me:")
    st.caption(("Live here: " if example.live else "") + example.note)


def show_answer(quiz: arch.Quiz) -> None:
    quiz.reveal(st.session_state.get(PICK))


def next_task(quiz: arch.Quiz) -> None:
    quiz.advance()
    st.session_state.pop(PICK, None)


with cards.question_card(
        "Which pattern fits which task, with a CNN or an RNN?",
        "Look at each side of the task. A picture with one label has no order on either side: a CNN. If "
        "the input is a sequence whose meaning comes from context across it (a spoken sentence, a review), "
        "the model must combine the whole input, through a recurrent state or attention, rather than judge "
        "short windows one at a time. If the output is a sequence whose length and order owe nothing to the "
        "input's, the model reads first and writes after: an encoder-decoder. Video tasks usually combine "
        "both tools: a CNN per frame, an RNN or a transformer across the frames.", expanded=True):
    quiz_mode = params.toggle("Quiz: hide the answers and test yourself", False, key="arch_quiz")
    if not quiz_mode:
        for task in arch.TASKS:
            with st.container(border=True):
                a, b, c = st.columns([2, 4, 3])
                a.markdown(f"**{task.name}**  \n{NAMES[task.pattern]}  \n*{task.model}*")
                b.markdown(task.why)
                with c:
                    show_example(task.example)
    else:
        quiz = st.session_state.get(QUIZ)
        if quiz is None or quiz.seed != sidebar.seed():
            quiz = st.session_state[QUIZ] = arch.Quiz.start(sidebar.seed())
        task = quiz.current
        st.markdown(f"##### Task {quiz.position + 1} of {len(quiz.order)}: {task.name}")
        # Not in the URL, on purpose: a pick is an answer in progress (like the score and the
        # task reached), so a shared link starts the quiz fresh instead of handing out answers.
        st.radio("Which pattern fits it?", list(NAMES), index=None, key=PICK, format_func=NAMES.__getitem__,
                 disabled=quiz.revealed)
        a, b, score = st.columns([1, 1, 2])
        a.button("Show answer", key="arch_show", on_click=show_answer, args=(quiz,), icon=":material/visibility:")
        b.button("Next task", key="arch_next", on_click=next_task, args=(quiz,), icon=":material/skip_next:")
        score.metric("Score", f"{quiz.right} / {quiz.answered}", help="right answers / answers shown")
        if quiz.revealed:
            answer = NAMES[task.pattern]
            if quiz.pick is None:
                st.info(f"No pick this time (not scored). The answer: **{answer}**.", icon=":material/help:")
            elif arch.check_answer(task.key, quiz.pick):
                st.success(f"Right: **{answer}**.", icon=":material/check_circle:")
            else:
                st.warning(f"Not quite: you picked {NAMES[quiz.pick]}; the answer is **{answer}**.",
                           icon=":material/cancel:")
            st.markdown(f"**Why:** {task.why}  \n**Model:** {task.model}")
            show_example(task.example)
        st.caption(f"The order of the {len(quiz.order)} tasks comes from the sidebar's seed ({quiz.seed}); after "
                   "the last task they come round again and the score carries on.")
