"""From-scratch cells and TCN equal torch's own modules with copied weights; fused twins; seeded builds."""

import math

import pytest
import torch
from torch import nn

from seqviz.recurrent import cells as rnn
from seqviz.recurrent.fused import fused_twin
from seqviz.recurrent.tcn import TCN, Conv1d, tcn_depth
from seqviz.recurrent.train import build_model

B, D, H = 5, 7, 11


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_cell_equals_torch(nonlinearity):
    torch.manual_seed(0)
    reference = nn.RNNCell(D, H, nonlinearity=nonlinearity)
    cell = rnn.RNNCell(D, H, nonlinearity).from_torch(reference)
    x, h = torch.randn(B, D), torch.randn(B, H)
    torch.testing.assert_close(cell(x, h), reference(x, h), atol=1e-5, rtol=1e-5)


def test_lstm_cell_equals_torch_and_uses_one_linear_layer():
    torch.manual_seed(1)
    reference = nn.LSTMCell(D, H)
    cell = rnn.LSTMCell(D, H).from_torch(reference)
    assert [type(m) for m in cell.children()] == [nn.Linear]
    assert cell.W_gates.weight.shape == (4 * H, D + H)
    x, h, c = torch.randn(B, D), torch.randn(B, H), torch.randn(B, H)
    for mine, theirs in zip(cell(x, (h, c)), reference(x, (h, c))):
        torch.testing.assert_close(mine, theirs, atol=1e-5, rtol=1e-5)


def test_gru_cell_equals_torch():
    torch.manual_seed(2)
    reference = nn.GRUCell(D, H)
    cell = rnn.GRUCell(D, H).from_torch(reference)
    x, h = torch.randn(B, D), torch.randn(B, H)
    torch.testing.assert_close(cell(x, h), reference(x, h), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_sequence_models_equal_torch_over_a_sequence(kind):
    torch.manual_seed(3)
    T = 9
    x = torch.randn(B, T, rnn.VOCAB)
    if kind == "rnn":
        model, reference = rnn.RNN(H), nn.RNN(rnn.VOCAB, H, batch_first=True)
        model.cell.from_torch(_as_cell(reference, nn.RNNCell(rnn.VOCAB, H)))
    elif kind == "lstm":
        model, reference = rnn.LSTM(H), nn.LSTM(rnn.VOCAB, H, batch_first=True)
        model.cell.from_torch(_as_cell(reference, nn.LSTMCell(rnn.VOCAB, H)))
    else:
        model, reference = rnn.GRU(H), nn.GRU(rnn.VOCAB, H, batch_first=True)
        model.cell.from_torch(_as_cell(reference, nn.GRUCell(rnn.VOCAB, H)))
    out = model(x)
    expected, _ = reference(x)
    torch.testing.assert_close(out.hidden, expected, atol=1e-5, rtol=1e-5)
    assert out.outputs.shape == (B, T, rnn.CLASSES)
    torch.testing.assert_close(out.outputs, model.W_hy(expected), atol=1e-5, rtol=1e-5)
    assert len(out.hidden_steps) == T
    if kind == "lstm":
        assert out.cell.shape == (B, T, H)
        assert set(out.gates) == {"input", "forget", "candidate", "output"}
        f, i, g = out.gates["forget"], out.gates["input"], out.gates["candidate"]
        torch.testing.assert_close(out.cell[:, 1], f[:, 1] * out.cell[:, 0] + i[:, 1] * g[:, 1])


def _as_cell(layer, cell):
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, name).copy_(getattr(layer, f"{name}_l0"))
    return cell


@pytest.mark.parametrize("c_in,c_out,k,s,L", [(5, 8, 3, 3, 27), (3, 4, 3, 1, 10), (2, 6, 5, 2, 17)])
def test_conv1d_equals_torch(c_in, c_out, k, s, L):
    torch.manual_seed(4)
    reference = nn.Conv1d(c_in, c_out, k, s)
    conv = Conv1d(c_in, c_out, k, s).from_torch(reference)
    x = torch.randn(B, c_in, L)
    torch.testing.assert_close(conv(x), reference(x), atol=1e-5, rtol=1e-5)


def test_conv1d_has_no_python_loop_over_positions():
    import inspect
    source = inspect.getsource(Conv1d.forward)
    assert "for " not in source and "unfold" in source


@pytest.mark.parametrize("length,depth", [(1, 1), (2, 1), (3, 1), (4, 2), (9, 2), (10, 3), (27, 3),
                                          (28, 4), (2000, 7)])
def test_tcn_depth_is_ceil_log3(length, depth):
    assert tcn_depth(length) == depth
    assert TCN(4, length).depth == depth


def test_tcn_pads_zeros_at_the_end_and_sees_every_input():
    torch.manual_seed(5)
    model = TCN(6, 20)
    assert model.padded_length == 27
    x = torch.zeros(2, 20, rnn.VOCAB)
    padded = model.pad(x + 1)
    assert padded.shape == (2, 27, rnn.VOCAB)
    assert torch.all(padded[:, 20:] == 0) and torch.all(padded[:, :20] == 1)
    x = torch.randn(2, 20, rnn.VOCAB, requires_grad=True)
    model(x).outputs.sum().backward()
    assert model(x).outputs.shape == (2, 1, rnn.CLASSES)
    # every input position reaches the output: the receptive field covers the sequence
    assert torch.all(x.grad.abs().sum(dim=(0, 2)) > 0)
    with pytest.raises(ValueError, match="at most 27"):
        model(torch.zeros(1, 28, dtype=torch.long))


def test_tcn_layers_are_stride_three_convolutions():
    model = TCN(4, 81)
    assert model.depth == 4
    assert all(layer.kernel_size == 3 and layer.stride == 3 for layer in model.layers)


def test_sequential_compute_flushes_denormals_on_its_own_thread_only():
    import threading

    tiny = torch.tensor([1e-39])  # a denormal float32
    threads = torch.get_num_threads()
    seen, inside, done = {}, threading.Event(), threading.Event()

    def other_session():  # started before the context, like another session's thread
        inside.wait(10)
        seen["other"] = float(tiny * 1.0)
        done.set()

    worker = threading.Thread(target=other_session)
    worker.start()
    with rnn.sequential_compute():
        assert float(tiny * 1.0) == 0.0
        inside.set()
        done.wait(10)
        assert torch.get_num_threads() == threads  # process-wide: never changed per call
    worker.join(10)
    assert float(tiny * 1.0) > 0.0
    assert seen["other"] > 0.0


@pytest.mark.parametrize("kind", ["rnn-tanh", "rnn-relu", "lstm", "gru", "tcn"])
def test_fused_twin_computes_what_the_scratch_model_computes(kind):
    model = build_model(kind, 12, 20, seed=6)
    twin = fused_twin(model)
    if kind != "tcn":
        assert isinstance(twin.layer, {"lstm": nn.LSTM, "gru": nn.GRU}.get(kind, nn.RNN))
    x = torch.randint(0, rnn.VOCAB, (7, 20), generator=torch.Generator().manual_seed(0))
    mine, theirs = model(x), twin(x)
    torch.testing.assert_close(theirs.outputs, mine.outputs, atol=1e-5, rtol=1e-5)
    if kind != "tcn":
        torch.testing.assert_close(theirs.hidden, mine.hidden, atol=1e-5, rtol=1e-5)
    with torch.no_grad():  # the weights go back where they came from
        for p in twin.parameters():
            if p.requires_grad:
                p.add_(0.5)
    other = build_model(kind, 12, 20, seed=1)
    twin.copy_to(other)
    torch.testing.assert_close(other(x).outputs, twin(x).outputs, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(other(x).outputs, mine.outputs)
    assert sum(p.numel() for p in twin.parameters() if p.requires_grad) == \
        sum(p.numel() for p in model.parameters())   # the same free parameters, no more


@pytest.mark.parametrize("kind", ["rnn-tanh", "rnn-relu", "lstm", "gru", "tcn"])
def test_build_model_draws_from_its_seed_only(kind):
    state = torch.get_rng_state()
    first = build_model(kind, 8, 20, seed=3).state_dict()
    torch.manual_seed(99)  # the global generator plays no part
    second = build_model(kind, 8, 20, seed=3).state_dict()
    third = build_model(kind, 8, 20, seed=4).state_dict()
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert all(not torch.equal(first[k], third[k]) for k in first)
    torch.set_rng_state(state)
    build_model(kind, 8, 20, seed=3)
    assert torch.equal(torch.get_rng_state(), state)  # and it is not advanced either


def test_conv1d_draws_torch_default_distribution_from_a_generator():
    conv = Conv1d(4, 600, 3, 3, generator=torch.Generator().manual_seed(1))
    bound = 1 / math.sqrt(4 * 3)
    assert conv.weight.abs().max() <= bound and conv.weight.abs().max() > 0.99 * bound
    assert conv.weight.std().item() == pytest.approx(bound / math.sqrt(3), rel=0.05)  # U(-b, b)
    again = Conv1d(4, 600, 3, 3, generator=torch.Generator().manual_seed(1))
    assert torch.equal(conv.weight, again.weight) and torch.equal(conv.bias, again.bias)
