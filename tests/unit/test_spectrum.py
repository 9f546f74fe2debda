"""The spectrum of W_hh: sigma_max against torch, the sufficient condition, and a non-normal example."""

import numpy as np
import pytest
import torch

from seqviz.recurrent import gradients, spectrum


def test_sigma_max_matches_torch_svdvals_and_bounds_every_eigenvalue():
    W = torch.randn(24, 24, generator=torch.Generator().manual_seed(0)) / 4
    result = spectrum.spectrum(W)
    assert result.sigma_max == pytest.approx(float(torch.linalg.svdvals(W.double())[0]), rel=1e-12)
    assert result.spectral_radius <= result.sigma_max + 1e-12
    np.testing.assert_allclose(np.sort(np.abs(result.eigenvalues)),
                               np.sort(np.abs(torch.linalg.eigvals(W.double()).numpy())), rtol=1e-9)
    with pytest.raises(ValueError):
        spectrum.spectrum(torch.zeros(2, 3))


def test_eigenvalues_inside_the_circle_do_not_guarantee_vanishing():
    """A non-normal matrix: every eigenvalue 0.5, sigma_max above 1; the tanh gradient grows first."""
    W = torch.tensor([[0.5, 3.0], [0.0, 0.5]])
    result = spectrum.spectrum(W)
    assert result.spectral_radius == pytest.approx(0.5)
    assert result.sigma_max > 1 and not result.vanishing_guaranteed()
    # the linearised backward pass (tanh' = 1 at 0) grows for a step before it fades
    g = torch.tensor([1.0, 0.0])
    norms = []
    for _ in range(6):
        g = W.T @ g
        norms.append(float(g.norm()))
    assert norms[0] > 1 and norms[-1] < norms[0]


def test_orthogonal_fresh_matrix_has_sigma_equal_rho_and_matches_the_profile():
    for kind in ("rnn-tanh", "lstm", "gru"):
        W = spectrum.fresh_recurrent_matrix(kind, 16, 0.8, seed=3)
        result = spectrum.spectrum(W)
        np.testing.assert_allclose(result.singular_values, 0.8, atol=1e-5)
        assert result.vanishing_guaranteed()
        profile = gradients.gradient_profile(kind, 10, 16, rho=0.8, seed=3)
        np.testing.assert_allclose(np.sort_complex(result.eigenvalues), np.sort_complex(profile.eigenvalues),
                                   atol=1e-5)
    assert not spectrum.spectrum(spectrum.fresh_recurrent_matrix("rnn-tanh", 8, 1.2, 0)).vanishing_guaranteed()


def test_sigma_below_one_bounds_the_tanh_horizon():
    rho = 0.9
    profile = gradients.gradient_profile("rnn-tanh", 150, 32, rho=rho, seed=1)
    sigma = spectrum.spectrum(spectrum.fresh_recurrent_matrix("rnn-tanh", 32, rho, 1)).sigma_max
    horizon = gradients.read_gradient(profile).horizon
    assert horizon is not None and horizon <= int(np.ceil(np.log(1000) / -np.log(sigma)))
