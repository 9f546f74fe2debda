"""Gradient norms through time: one backward pass equals one backward per step."""

import threading

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from seqviz.recurrent import bptt, gradients
from seqviz.recurrent import cells as rnn
from seqviz.recurrent.train import load_shipped


@pytest.mark.parametrize("kind", ["rnn-tanh", "rnn-relu", "lstm", "gru"])
def test_one_pass_equals_per_step_autograd(kind):
    fast = gradients.hidden_grad_norms(kind, 25, 12, rho=0.95, seed=3)
    slow = gradients.hidden_grad_norms_per_step(kind, 25, 12, rho=0.95, seed=3)
    assert fast.shape == (25,)
    np.testing.assert_allclose(fast, slow, rtol=1e-5, atol=1e-12)


def test_tanh_gradient_vanishes_geometrically_for_rho_below_one():
    norms = gradients.hidden_grad_norms("rnn-tanh", 120, 32, rho=0.8, seed=0)
    # each step back multiplies by at most rho (tanh' <= 1, singular values = rho)
    ratios = norms[:-1][norms[:-1] > 0] / norms[1:][norms[:-1] > 0]
    assert np.all(ratios <= 0.8 + 1e-6)
    assert norms[0] < norms[-1] * 0.8 ** 100
    assert gradients.memory_horizon(norms) <= int(np.ceil(np.log(1000) / -np.log(0.8)))


def test_lstm_keeps_gradients_longer_than_tanh_rnn():
    tanh = gradients.hidden_grad_norms("rnn-tanh", 300, 32, rho=1.0, seed=0)
    lstm = gradients.hidden_grad_norms("lstm", 300, 32, rho=1.0, seed=0, forget_bias=1.0)
    horizon_tanh = gradients.memory_horizon(tanh)
    horizon_lstm = gradients.memory_horizon(lstm)
    assert horizon_tanh is not None
    assert horizon_lstm is None or horizon_lstm > 2 * horizon_tanh


def test_orthogonal_recurrence_has_all_eigenvalues_on_radius_rho():
    profile = gradients.gradient_profile("rnn-tanh", 10, 16, rho=0.7)
    np.testing.assert_allclose(np.abs(profile.eigenvalues), 0.7, atol=1e-5)
    lstm = gradients.gradient_profile("lstm", 10, 16, rho=1.3)
    np.testing.assert_allclose(np.abs(lstm.eigenvalues), 1.3, atol=1e-5)


def test_tcn_gradient_does_not_fade_with_distance():
    norms = gradients.hidden_grad_norms("tcn", 200, 16, seed=0)
    assert norms.shape == (200,)
    assert norms[:10].mean() > norms[-10:].mean() / 100


def test_clipping_rescales_uniformly_and_trained_weights_work():
    profile = gradients.gradient_profile("rnn-tanh", 50, 16, rho=1.4)
    clipped = profile.clipped(profile.parameter_grad_norm / 10)
    np.testing.assert_allclose(clipped * 10, profile.norms, rtol=1e-9)
    assert profile.clipped(None) is profile.norms
    model, _, _ = load_shipped("memory", "lstm")
    for p in model.parameters():
        p.requires_grad_(False)
    trained = gradients.hidden_grad_norms("lstm", 40, 0, model=model)
    assert trained.shape == (40,) and np.all(np.isfinite(trained))
    assert not any(p.requires_grad for p in model.parameters())  # the shared model is untouched


def test_memory_horizon():
    norms = np.array([1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0])
    assert gradients.memory_horizon(norms) == 4
    assert gradients.memory_horizon(np.ones(10)) is None


def test_exactly_zero_gradient_is_flagged_never_read_as_a_long_horizon():
    """ReLU RNN, rho = 1.5, length 200, hidden 64: the answer is certain in float32, so
    dL/dh is exactly 0 everywhere; the reading must say so, not "> 199"."""
    profile = gradients.gradient_profile("rnn-relu", 200, 64, rho=1.5, seed=0)
    assert np.all(profile.norms == 0)
    reading = gradients.read_gradient(profile)
    assert reading.flagged and reading.state == "zero" and reading.horizon is None
    assert ">" not in reading.label and "0" in reading.label
    assert reading.zero_steps == 200


def test_non_finite_gradients_are_flagged_and_not_clipped():
    norms = np.array([np.inf, 1.0, 2.0])
    profile = gradients.GradientProfile("rnn-relu", norms, float("inf"), np.zeros(0, dtype=complex))
    reading = gradients.read_gradient(profile)
    assert reading.state == "not finite" and reading.flagged and reading.nonfinite_steps == 1
    assert profile.clip_factor(1.0) is None and profile.clipped(1.0) is profile.norms
    assert "1 of 3 steps" in reading.explanation and "overflows float32" in reading.explanation


def test_an_exploding_tanh_gradient_reads_as_growth():
    """rho = 1.5 over 2000 steps: ||dL/dh_t|| grows to ~1e19 and stays finite (the sweep sums in float64)."""
    profile = gradients.gradient_profile("rnn-tanh", 2000, 64, rho=1.5, seed=0)
    reading = gradients.read_gradient(profile)
    assert np.all(np.isfinite(profile.norms)) and profile.norms.max() > 1e15
    assert reading.state == "grows" and reading.label.startswith("grows ×") and ">" not in reading.label
    assert np.isfinite(profile.parameter_grad_norm) and profile.parameter_grad_norm > 1e15


def test_an_overflowing_parameter_norm_is_flagged():
    profile = gradients.GradientProfile("rnn-tanh", np.array([1.0, 1e3, 1e6]), float("inf"),
                                        np.zeros(0, dtype=complex))
    reading = gradients.read_gradient(profile)
    assert reading.parameter_overflow and reading.flagged and reading.note == "‖∂L/∂θ‖ = inf"


def test_readings_of_ordinary_profiles():
    fading = gradients.GradientProfile("rnn-tanh", np.array([1e-6, 1e-3, 1.0]), 2.0, np.zeros(0, dtype=complex))
    reading = gradients.read_gradient(fading)
    assert (reading.state, reading.horizon, reading.label) == ("fades", 2, "2 steps")
    holding = gradients.GradientProfile("tcn", np.ones(50), 1.0, np.zeros(0, dtype=complex))
    assert gradients.read_gradient(holding).label == "> 49 steps" and not gradients.read_gradient(holding).flagged
    growing = gradients.GradientProfile("rnn-relu", np.array([5e4, 1.0, 1.0]), 3.0, np.zeros(0, dtype=complex))
    assert gradients.read_gradient(growing).label == "grows ×5e+04"
    underflow = gradients.GradientProfile("rnn-tanh", np.array([0.0, 0.0, 1e-9, 1.0]), 1.0,
                                          np.zeros(0, dtype=complex))
    reading = gradients.read_gradient(underflow)
    assert reading.state == "fades" and reading.zero_steps == 2 and "exactly 0" in reading.explanation
    assert fading.clip_factor(1.0) == 0.5 and fading.clip_factor(10.0) is None


def _autograd(kind, length, hidden, rho, seed, forget_bias=None, model=None):
    """dL/dh_t and dL/dtheta through the model's own forward, by autograd."""
    model, x, y = gradients._prepare(kind, length, hidden, rho, seed, model, "cpu", forget_bias, trainable=True)
    out = model(x)
    loss = F.cross_entropy(out.outputs[:, -1], y)
    params = dict(model.named_parameters())
    grads = torch.autograd.grad(loss, out.hidden_steps + list(params.values()))
    return model, x, y, float(loss.detach()), torch.stack(grads[:length], dim=1)[0], dict(zip(params, grads[length:]))


@pytest.mark.parametrize("kind,rho,forget_bias", [("rnn-tanh", 0.9, None), ("rnn-tanh", 1.3, None),
                                                  ("rnn-relu", 1.1, None), ("lstm", 1.0, 2.0),
                                                  ("lstm", 1.4, None), ("gru", 1.2, None)])
def test_closed_form_sweep_equals_autograd_for_hidden_and_weight_gradients(kind, rho, forget_bias):
    model, x, y, loss, hidden_grads, weight_grads = _autograd(kind, 30, 10, rho, 7, forget_bias)
    result = bptt.backprop_through_time(model, x, y)
    assert result.loss == pytest.approx(loss, rel=1e-5)
    scale = hidden_grads.abs().max()
    torch.testing.assert_close(result.hidden_grads, hidden_grads, atol=1e-5 * scale, rtol=1e-4)
    assert set(result.parameter_grads) == set(weight_grads)
    for name, expected in weight_grads.items():
        torch.testing.assert_close(result.parameter_grads[name], expected,
                                   atol=1e-5 * expected.abs().max(), rtol=1e-4, msg=name)
    assert bptt.backprop_through_time(model, x, y, parameters=False).parameter_grads is None


@pytest.mark.parametrize("kind", ["rnn-tanh", "lstm", "gru", "tcn"])
def test_profile_parameter_norm_is_the_autograd_gradient_norm(kind):
    profile = gradients.gradient_profile(kind, 20, 8, rho=1.1, seed=2)
    model, x, y = gradients._prepare(kind, 20, 8, 1.1, 2, None, "cpu", trainable=True)
    F.cross_entropy(model(x).outputs[:, -1], y).backward()
    expected = float(torch.sqrt(sum(p.grad.double().pow(2).sum() for p in model.parameters())))
    assert profile.parameter_grad_norm == pytest.approx(expected, rel=1e-5)


def test_trained_models_give_the_autograd_gradients_and_stay_untouched():
    model, _, _ = load_shipped("memory", "gru")
    for p in model.parameters():
        p.requires_grad_(False)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    norms = gradients.hidden_grad_norms("gru", 40, 0, model=model, seed=4)
    _, _, _, _, expected, _ = _autograd("gru", 40, 0, 1.0, 4, model=model)
    np.testing.assert_allclose(norms, expected.double().norm(dim=-1).numpy(), rtol=1e-5, atol=1e-12)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())
    assert not any(p.requires_grad for p in model.parameters())


def test_tcn_one_pass_equals_one_backward_per_input_position():
    fast = gradients.hidden_grad_norms("tcn", 30, 8, seed=1)
    slow = gradients.hidden_grad_norms_per_step("tcn", 30, 8, seed=1)
    np.testing.assert_allclose(fast, slow, rtol=1e-5, atol=1e-12)


def test_sweep_takes_one_sequence():
    model = gradients.build_model("rnn-tanh", 4, 5)
    with pytest.raises(ValueError, match="one sequence"):
        bptt.backprop_through_time(model, torch.zeros(2, 5, dtype=torch.long), torch.tensor([1, 2]))


def test_seeded_weights_not_the_global_generator():
    state = torch.get_rng_state()
    first = gradients.gradient_profile("lstm", 50, 8, rho=0.9, seed=11)
    torch.manual_seed(123)
    second = gradients.gradient_profile("lstm", 50, 8, rho=0.9, seed=11)
    np.testing.assert_array_equal(first.norms, second.norms)
    other = gradients.hidden_grad_norms("lstm", 50, 8, rho=0.9, seed=12)
    assert not np.allclose(first.norms, other)
    torch.set_rng_state(state)


def test_the_same_seeded_calls_in_two_threads_at_once_equal_one_after_the_other():
    calls = [("rnn-tanh", 400, 32, 11), ("lstm", 300, 16, 12), ("gru", 300, 16, 13), ("tcn", 200, 8, 14)]
    one_by_one = [gradients.hidden_grad_norms(kind, T, H, rho=1.05, seed=seed) for kind, T, H, seed in calls]
    results: dict[int, list] = {}

    def worker(index):
        results[index] = [gradients.hidden_grad_norms(kind, T, H, rho=1.05, seed=seed)
                          for kind, T, H, seed in calls[index:] + calls[:index]]

    threads = [threading.Thread(target=worker, args=(i,)) for i in (0, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for index, got in results.items():
        for expected, norms in zip(one_by_one[index:] + one_by_one[:index], got):
            np.testing.assert_array_equal(norms, expected)
    assert len(results) == 2


def test_long_loops_run_on_single_threaded_pool_threads_and_leave_the_callers_alone():
    default = torch.get_num_threads()
    where = rnn.run_sequential(lambda: (threading.get_ident(), torch.get_num_threads(),
                                        float(torch.tensor([1e-39]) * 1.0)))
    assert where[0] != threading.get_ident()
    assert where[1] == 1 and where[2] == 0.0          # one torch thread there, denormals flushed
    assert torch.get_num_threads() == default         # the caller keeps its count
    seen = {}
    later = threading.Thread(target=lambda: seen.setdefault("threads", torch.get_num_threads()))
    later.start()
    later.join(10)
    assert seen["threads"] == default                 # threads started later take the default
    assert rnn.run_sequential(lambda: rnn.run_sequential(lambda: 7)) == 7  # nested calls run inline
    if default >= 2:                                  # two sessions' loops run side by side
        both = threading.Barrier(2)
        met = []
        callers = [threading.Thread(target=lambda: met.append(rnn.run_sequential(lambda: both.wait(20))))
                   for _ in range(2)]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join(30)
        assert sorted(met) == [0, 1]
