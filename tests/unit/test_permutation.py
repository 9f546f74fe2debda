"""Permutation equivariance of the attention + feed-forward block, and how positions break it."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from seqviz.attention import permutation, positional
from seqviz.core import rng


def block(pos_encoding="none", d_in=12, seed=0):
    config = permutation.BlockConfig(d_in=d_in, pos_encoding=pos_encoding, seed=seed)
    return permutation.EquivariantBlock(config).eval()


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 20), st.integers(0, 10_000))
def test_equivariant_without_positions(n, seed):
    X = torch.as_tensor(np.random.default_rng(seed).normal(size=(n, 12)), dtype=torch.float32)
    perm = permutation.make_permutation(n, "random", seed)
    gap = permutation.equivariance_gap(block(seed=seed % 5), X, perm)
    assert gap.max_gap < 1e-5 * max(1.0, gap.scale)


@settings(max_examples=20, deadline=None)
@given(st.integers(3, 20), st.integers(0, 10_000), st.sampled_from(["sinusoidal", "learned"]))
def test_positions_break_equivariance(n, seed, encoding):
    X = torch.as_tensor(np.random.default_rng(seed).normal(size=(n, 12)), dtype=torch.float32)
    perm = permutation.make_permutation(n, "reverse")
    gap = permutation.equivariance_gap(block(encoding), X, perm)
    assert gap.max_gap > 1e-2


def test_identity_permutation_changes_nothing_even_with_positions():
    X = torch.randn(6, 12, generator=torch.Generator().manual_seed(0))
    gap = permutation.equivariance_gap(block("learned"), X, np.arange(6))
    assert gap.max_gap == 0.0


def test_blocks_are_seeded_and_return_internals():
    X = torch.randn(5, 12, generator=torch.Generator().manual_seed(1))
    a, b, c = block(seed=3)(X), block(seed=3)(X), block(seed=4)(X)
    assert torch.equal(a.output, b.output) and not torch.equal(a.output, c.output)
    assert a.weights.shape == (5, 5)
    assert torch.allclose(a.weights.sum(-1), torch.ones(5))


def test_blocks_use_no_global_random_state():
    before = torch.get_rng_state()
    model = block("learned", seed=5)
    assert torch.equal(torch.get_rng_state(), before)  # built without a draw from torch's generator
    generator = rng.torch_generator(5)  # the documented recipe draws the same parameters
    expected = [rng.uniform(tuple(model.embed.weight.shape), 1 / np.sqrt(12), generator)]
    assert torch.equal(model.embed.weight, expected[0])
    redrawn = rng.init_parameters(block("learned", seed=9), rng.torch_generator(5))
    for (name, p), q in zip(model.named_parameters(), redrawn.parameters()):
        assert torch.equal(p, q), name
    assert model.learned_positions.std().item() == pytest.approx(1.0, abs=0.1)  # N(0, 1) positions
    first = permutation.make_permutation(16, "random", seed=3)
    torch.rand(3), np.random.rand(3)  # the global generators move on; the seeded draw does not
    assert np.array_equal(permutation.make_permutation(16, "random", seed=3), first)


def test_the_block_uses_the_one_sinusoidal_table():
    model = block("sinusoidal")
    assert torch.equal(model.sinusoidal_positions, positional.sinusoidal(64, 32))
    assert not hasattr(permutation, "sinusoidal_encoding")


def test_patches_round_trip_and_permutations():
    image = permutation.toy_image(32)
    assert image.shape == (32, 32, 3) and 0 <= image.min() and image.max() <= 1
    patches = permutation.image_to_patches(image, 8)
    assert patches.shape == (16, 192)
    assert np.array_equal(patches[1], image[:8, 8:16].reshape(-1))
    assert np.array_equal(permutation.patches_to_image(patches, 4, 8), image)
    for kind in permutation.PERMUTATIONS:
        assert sorted(permutation.make_permutation(16, kind, seed=2)) == list(range(16))
    with pytest.raises(ValueError):
        permutation.make_permutation(4, "sideways")


def test_run_experiment_reports_small_gap_only_without_positions():
    result = permutation.run_experiment(patch=8, permutation="random", seed=0)
    assert result.max_gaps["none"] < 1e-5 and result.max_gap == result.max_gaps["none"]
    assert result.max_gaps["sinusoidal"] > 0.1 and result.max_gaps["learned"] > 0.1
    assert np.allclose(result.f_PX_picture, result.P_fX_picture, atol=1e-4)
    assert result.shuffled.shape == result.image.shape == (32, 32, 3)
    assert set(result.gaps) == set(permutation.POS_ENCODINGS)
    vectors = permutation.run_experiment(tokens="random vectors", pos_encoding="learned", seed=2)
    assert vectors.max_gap == vectors.max_gaps["learned"] > 0.1


def test_block_equals_a_hand_written_forward_pass():
    X = torch.randn(7, 12, generator=torch.Generator().manual_seed(2))
    model = block("sinusoidal")
    with torch.no_grad():
        got = model(X)
        x = model.embed(X) + positional.sinusoidal(7, 32)
        q, k, v = x @ model.W_q.weight.T, x @ model.W_k.weight.T, x @ model.W_v.weight.T
        attended = x + torch.nn.functional.scaled_dot_product_attention(q, k, v)
        expected = attended + model.feed_forward(attended)
    assert torch.allclose(got.embedded, x, atol=1e-6)
    assert torch.allclose(got.output, expected, atol=1e-5)
    batched = model(torch.stack([X, X.flip(0)])).output
    assert torch.allclose(batched[0], got.output, atol=1e-6)
