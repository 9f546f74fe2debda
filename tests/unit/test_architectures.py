"""Sequence architectures: the tasks' patterns, the networks' shapes and steps against torch's own RNN,
the unrolled diagram's boxes and arrows, and the quiz's order and scoring."""

from __future__ import annotations

import re

import pytest
import torch
from torch import nn

from seqviz.core import rng
from seqviz.plots import architectures as diagrams
from seqviz.plots.palette import VERMILLION
from seqviz.recurrent import architectures as arch
from seqviz.ui import registry
from tests.conftest import ROOT

KEYS = [p.key for p in arch.PATTERNS]
LENGTHS = [(1, 1), (3, 5), (6, 2), (8, 8)]
D, H, C = arch.INPUT_SIZE, arch.HIDDEN_SIZE, arch.OUTPUT_SIZE
EXPECTED = {"image-classification": "one-to-one", "image-captioning": "one-to-many", "sentiment": "many-to-one",
            "video-classification": "many-to-one", "word-translation": "one-to-one",
            "sentence-translation": "encoder-decoder", "question-answering": "encoder-decoder",
            "speech-recognition": "encoder-decoder", "video-captioning": "encoder-decoder",
            "next-frame": "many-to-one"}


def test_the_ten_tasks_each_have_one_known_pattern():
    assert len(arch.TASKS) == 10 and len({t.key for t in arch.TASKS}) == 10
    assert {t.key: t.pattern for t in arch.TASKS} == EXPECTED
    assert set(EXPECTED.values()) <= set(KEYS)
    for task in arch.TASKS:
        assert sum(arch.check_answer(task.key, p) for p in KEYS) == 1
        assert task.model and len(task.why) > 60


@pytest.mark.parametrize("key", ["sentiment", "speech-recognition"])
def test_context_tasks_say_windows_are_the_wrong_choice(key):
    why = arch.task(key).why.lower()
    assert "context across the whole input changes the answer" in why
    assert "windows" in why and "wrong choice" in why


def test_the_patterns_read_as_their_names():
    shapes = {p.key: (p.input_sequence, p.output_sequence, p.aligned) for p in arch.PATTERNS}
    assert shapes == {"one-to-one": (False, False, True), "one-to-many": (False, True, False),
                      "many-to-one": (True, False, False), "many-to-many-aligned": (True, True, True),
                      "encoder-decoder": (True, True, False)}


def test_every_example_names_a_registered_page_or_says_there_is_none():
    pages = {t.path for t in registry.TOPICS}
    examples = [t.example for t in arch.TASKS] + [p.example for p in arch.PATTERNS]
    for example in examples:
        assert example.note
        if example.page is None:
            assert not example.live and not example.query
            continue
        assert example.page in pages and (ROOT / example.page).is_file()
        assert example.label and example.query_params and all(isinstance(v, str) for v in example.query_params.values())
    live = {t.key for t in arch.TASKS if t.example.live}
    assert live == {"image-captioning", "video-captioning", "next-frame"}
    assert arch.task("word-translation").example.page is None
    assert arch.pattern("many-to-many-aligned").example.page == "pages/hidden_state.py"


@pytest.mark.parametrize("t_in,t_out", LENGTHS)
@pytest.mark.parametrize("key", KEYS)
def test_the_real_networks_have_the_shapes_and_steps_of_their_pattern(key, t_in, t_out):
    run = arch.run_pattern(key, t_in, t_out, rng.torch_generator(0))
    pattern = arch.pattern(key)
    T_in, T_out = arch.lengths(key, t_in, t_out)
    assert T_in == (t_in if pattern.input_sequence else 1)
    assert T_out == (1 if not pattern.output_sequence else T_in if pattern.aligned else t_out)
    assert run.input_shape == ((1, T_in, D) if pattern.input_sequence else (1, D))
    assert run.output_shape == ((1, T_out, C) if pattern.output_sequence else (1, C))
    states = dict(run.state_shapes)
    expected = {"one-to-one": ({"h": (1, H)}, 0, 0),
                "one-to-many": ({"decoder hₜ": (1, T_out, H)}, 0, T_out),
                "many-to-one": ({"hₜ": (1, T_in, H)}, T_in, 0),
                "many-to-many-aligned": ({"hₜ": (1, T_in, H)}, T_in, 0),
                "encoder-decoder": ({"encoder hₜ": (1, T_in, H), "context": (1, H), "decoder sₜ": (1, T_out, H)},
                                    T_in, T_out)}[key]
    assert (states, run.encoder_steps, run.decoder_steps) == expected
    assert run.recurrent_steps == expected[1] + expected[2]
    said = [int(n) for n in re.findall(r"\*\*(\d+)\*\*", run.steps_sentence())]  # the counts the page states
    assert said == {"one-to-one": [], "one-to-many": [T_out], "many-to-one": [T_in], "many-to-many-aligned": [T_in],
                    "encoder-decoder": [T_in, T_out, T_in + T_out]}[key]


def _torch_rnn(cell) -> nn.RNN:
    """torch's own nn.RNN with the weights of one of our RNNCells."""
    reference = nn.RNN(cell.W_xh.in_features, cell.hidden_size, batch_first=True)
    with torch.no_grad():
        reference.weight_ih_l0.copy_(cell.W_xh.weight)
        reference.bias_ih_l0.copy_(cell.W_xh.bias)
        reference.weight_hh_l0.copy_(cell.W_hh.weight)
        reference.bias_hh_l0.zero_()
    return reference


@torch.no_grad()
def test_encoder_decoder_equals_torch_rnns_run_by_hand():
    model = arch.build_model("encoder-decoder", rng.torch_generator(3))
    x = rng.normal((2, 5, D), rng.torch_generator(4))
    out = model(x, 4)
    encoded, h_n = _torch_rnn(model.encoder)(x)
    torch.testing.assert_close(out.states["encoder hₜ"], encoded)
    torch.testing.assert_close(out.states["context"], h_n[0])
    decoder, y, s = _torch_rnn(model.decoder), torch.zeros(2, 1, C), h_n   # y_0 = 0: the start symbol
    for t in range(4):
        _, s = decoder(y, s)
        torch.testing.assert_close(out.states["decoder sₜ"][:, t], s[0])
        y = model.W_hy(s[0])[:, None]
        torch.testing.assert_close(out.outputs[:, t], y[:, 0])


@torch.no_grad()
def test_many_to_one_and_aligned_read_out_torch_rnn_states():
    x = rng.normal((2, 6, D), rng.torch_generator(5))
    last = arch.build_model("many-to-one", rng.torch_generator(1))
    states, h_n = _torch_rnn(last.encoder)(x)
    torch.testing.assert_close(last(x).outputs, last.W_hy(h_n[0]))
    aligned = arch.build_model("many-to-many-aligned", rng.torch_generator(1))
    states, _ = _torch_rnn(aligned.rnn.cell)(x)
    torch.testing.assert_close(aligned(x).outputs, aligned.rnn.W_hy(states))


@torch.no_grad()
def test_one_to_many_reads_the_item_at_step_one_then_its_own_outputs():
    model = arch.build_model("one-to-many", rng.torch_generator(2))
    x = rng.normal((1, D), rng.torch_generator(6))
    out = model(x, 3)
    cell = model.decoder
    h = torch.tanh(model.W_xh(x))                                       # h_0 = 0
    for t in range(3):
        torch.testing.assert_close(out.states["decoder hₜ"][:, t], h)
        y = model.W_hy(h)
        torch.testing.assert_close(out.outputs[:, t], y)
        h = torch.tanh(cell.W_xh(y) + cell.W_hh(h))


def test_the_same_generator_seed_gives_the_same_network_and_another_seed_another():
    def outputs(seed):
        model = arch.build_model("encoder-decoder", rng.torch_generator(seed))
        return model(rng.normal((1, 4, D), rng.torch_generator(seed)), 3).outputs

    torch.testing.assert_close(outputs(7), outputs(7))
    assert not torch.allclose(outputs(7), outputs(8))


def _counts(fig) -> tuple[int, int]:
    layout = fig.to_dict()["layout"]
    boxes = sum(s["type"] == "rect" for s in layout.get("shapes", []))
    arrows = sum(bool(a.get("showarrow")) for a in layout.get("annotations", []))
    return boxes, arrows


@pytest.mark.parametrize("t_in,t_out", LENGTHS)
@pytest.mark.parametrize("key", KEYS)
def test_the_diagram_has_a_box_per_item_and_an_arrow_per_dependency(key, t_in, t_out):
    T_in, T_out = arch.lengths(key, t_in, t_out)
    expected = {"one-to-one": (3, 2),
                "one-to-many": (1 + 2 * T_out, 1 + (T_out - 1) + T_out + (T_out - 1)),
                "many-to-one": (2 * T_in + 1, T_in + (T_in - 1) + 1),
                "many-to-many-aligned": (3 * T_in, T_in + (T_in - 1) + T_in),
                "encoder-decoder": (2 * T_in + 2 * T_out, T_in + (T_in - 1) + 1 + (T_out - 1) + T_out + (T_out - 1))}
    fig = diagrams.unrolled_diagram(key, t_in, t_out)
    assert _counts(fig) == expected[key]
    labels = {trace["name"]: trace["text"] for trace in fig.to_dict()["data"]}
    assert len(labels["inputs"]) == T_in and len(labels["outputs"]) == T_out
    if T_in > 1:
        assert labels["inputs"][-1] == f"x<sub>{T_in}</sub>"
    context = [a for a in fig.to_dict()["layout"]["annotations"] if a.get("arrowcolor") == VERMILLION]
    assert len(context) == (key == "encoder-decoder")


@pytest.mark.parametrize("key", KEYS)
def test_the_diagram_draws_as_many_recurrent_states_as_the_network_runs_steps(key):
    boxes, arrows = diagrams.unrolled_layout(key, 5, 3)
    run = arch.run_pattern(key, 5, 3, rng.torch_generator(0))
    states = [b for b in boxes if b.kind in ("state", "decoder")]
    assert len(states) == (run.recurrent_steps or 1)                    # one-to-one: one hidden layer, no step
    assert f"{run.recurrent_steps} recurrent steps" in diagrams.unrolled_diagram(key, 5, 3).layout.title.text \
        or key == "one-to-one"
    for arrow in arrows:                                                # time runs left to right, data upwards
        assert arrow.end.column > arrow.start.column or arrow.end.row > arrow.start.row


def test_arrows_point_from_edge_to_edge_and_the_key_names_only_drawn_kinds():
    fig = diagrams.unrolled_diagram("encoder-decoder", 3, 2).to_dict()
    for a in (a for a in fig["layout"]["annotations"] if a.get("showarrow")):
        assert (a["x"], a["y"]) != (a["ax"], a["ay"])
    assert "pink" in diagrams.arrow_key("encoder-decoder", 3, 2)
    assert "vermilion" in diagrams.arrow_key("encoder-decoder", 3, 2)
    assert "pink" not in diagrams.arrow_key("many-to-one", 3, 2)
    assert diagrams.arrow_key("one-to-one", 3, 2) == "Arrows: grey, an input read or a state read out."


def test_quiz_order_is_reproducible_by_seed_and_covers_every_task():
    assert arch.quiz_order(3) == arch.quiz_order(3)
    for seed in range(5):
        assert sorted(arch.quiz_order(seed)) == sorted(t.key for t in arch.TASKS)
    assert len({arch.quiz_order(seed) for seed in range(5)}) > 1


def test_quiz_scores_each_task_once_and_comes_round_again():
    quiz = arch.Quiz.start(0)
    first = quiz.current
    wrong = next(k for k in KEYS if k != first.pattern)
    quiz.reveal(wrong)
    quiz.reveal(first.pattern)                                         # pressed again: nothing changes
    assert (quiz.revealed, quiz.pick, quiz.right, quiz.answered) == (True, wrong, 0, 1)
    quiz.advance()
    assert (quiz.position, quiz.revealed, quiz.pick) == (1, False, None)
    quiz.reveal(quiz.current.pattern)
    assert (quiz.right, quiz.answered) == (1, 2)
    quiz.advance()
    quiz.reveal(None)                                                  # no pick: shown, not scored
    assert (quiz.right, quiz.answered) == (1, 2)
    for _ in range(len(arch.TASKS) - 2):
        quiz.advance()
    assert quiz.position == 0 and quiz.current == first
