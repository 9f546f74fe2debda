"""Gradient norms through time: one backward pass equals one backward per step."""

import numpy as np
import pytest

from seqviz.recurrent import gradients
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


def test_an_exploding_tanh_gradient_reads_as_growth_with_an_overflowing_parameter_norm():
    """rho = 1.5 over 2000 steps: ||dL/dh_t|| reaches ~1e19, its square overflows float32."""
    profile = gradients.gradient_profile("rnn-tanh", 2000, 64, rho=1.5, seed=0)
    reading = gradients.read_gradient(profile)
    assert np.all(np.isfinite(profile.norms)) and profile.norms.max() > 1e15
    assert reading.state == "grows" and reading.label.startswith("grows ×") and ">" not in reading.label
    assert reading.parameter_overflow and reading.flagged and reading.note == "||dL/dθ|| = inf"


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
