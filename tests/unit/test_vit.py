"""The predictive ViT (seqviz.vit.model): shapes, attention, seeded initialisation, and the
two ablations' symmetries."""

import dataclasses

import pytest
import torch

from seqviz.attention import attention, positional
from seqviz.core import rng
from seqviz.vit import model as vit

SMALL = vit.ViTConfig(frames=2, image_size=16, patch_size=4, width=32, depth=2, heads=4)


def _model(config, seed=0):
    model = vit.build(config, seed).eval()
    with torch.no_grad():  # the head starts at zero ("copy the last frame"); wake it up
        model.head.weight.copy_(rng.normal(tuple(model.head.weight.shape), rng.torch_generator(seed), 0.2))
    return model


def _frames(config, batch=2, seed=1):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(batch, config.frames, 3, config.image_size, config.image_size, generator=generator)


@pytest.mark.parametrize("pos", vit.POS_EMBEDDINGS)
@pytest.mark.parametrize("attention", [True, False])
def test_shapes_and_attention_weights(pos, attention):
    config = dataclasses.replace(SMALL, pos_embedding=pos, use_attention=attention)
    model = _model(config)
    x = _frames(config)
    out, weights = model(x, return_attention=True)
    assert out.shape == (2, 3, 16, 16)
    if attention:
        assert weights.shape == (2, config.depth, config.heads, config.tokens, config.tokens)
        torch.testing.assert_close(weights.sum(-1), torch.ones(weights.shape[:-1]))
        torch.testing.assert_close(model(x), out, atol=1e-5, rtol=1e-5)  # SDPA path == explicit
    else:
        assert weights is None


def test_patchify_round_trip_and_zero_head_copies_the_last_frame():
    model = vit.PredictiveViT(SMALL)
    x = _frames(SMALL)
    patches = model.patchify(x)                                          # (B, F, P, C*p*p)
    assert patches.shape == (2, 2, 16, 48)
    torch.testing.assert_close(model.unpatchify(patches[:, -1]), x[:, -1])
    torch.testing.assert_close(model(x), x[:, -1])


def _changed_patches(model, x, frame, patch):
    """Which output patches move when one input patch is perturbed."""
    y = x.clone()
    p = model.config.patch_size
    row, col = divmod(patch, model.config.grid)
    y[:, frame, :, row * p:(row + 1) * p, col * p:(col + 1) * p] += 0.5
    with torch.no_grad():
        delta = (model(y) - model(x)).abs()                              # (B, C, H, W)
    per_patch = model.patchify(delta[:, None])[0, 0].sum(-1)             # (P,)
    return set(torch.nonzero(per_patch > 1e-6).flatten().tolist())


def test_without_attention_no_information_moves_between_patches():
    config = dataclasses.replace(SMALL, use_attention=False)
    model = _model(config)
    x = _frames(config)
    assert _changed_patches(model, x, frame=1, patch=5) == {5}
    assert _changed_patches(model, x, frame=0, patch=5) == set()          # nor across time
    full = _model(SMALL)
    assert len(_changed_patches(full, x, frame=1, patch=5)) == SMALL.patches_per_frame


def test_without_positions_the_model_is_permutation_equivariant_over_patches():
    config = dataclasses.replace(SMALL, pos_embedding="none")
    model = _model(config)
    x = _frames(config)
    order = torch.randperm(config.patches_per_frame, generator=torch.Generator().manual_seed(0))
    permuted = model.unpatchify(model.patchify(x)[:, :, order].flatten(0, 1)).view_as(x)
    with torch.no_grad():
        out, out_permuted = model.patchify(model(x)[:, None]), model.patchify(model(permuted)[:, None])
    torch.testing.assert_close(out_permuted, out[:, :, order], atol=1e-5, rtol=1e-5)
    learned = _model(SMALL)
    with torch.no_grad():
        a, b = learned.patchify(learned(x)[:, None]), learned.patchify(learned(permuted)[:, None])
    assert not torch.allclose(b, a[:, :, order], atol=1e-4)


def test_validation_counts_and_estimates():
    assert vit.validate(dataclasses.replace(SMALL, patch_size=5))
    assert vit.validate(dataclasses.replace(SMALL, width=30, heads=4))
    with pytest.raises(ValueError, match="divisible"):
        vit.PredictiveViT(dataclasses.replace(SMALL, width=30))
    model = vit.PredictiveViT(SMALL)
    assert vit.parameter_count(SMALL) == sum(p.numel() for p in model.parameters())
    small, big = vit.flops_per_step(SMALL), vit.flops_per_step(dataclasses.replace(SMALL, frames=4))
    assert 2 < big / small < 4.5          # attention's N^2 makes it more than double
    huge = vit.ViTConfig(frames=8, image_size=32, patch_size=2, width=256, depth=6, heads=8)
    assert vit.memory_estimate_bytes(huge) > 4 * 2**30 > vit.memory_estimate_bytes(vit.PRESETS["full"])


def test_build_draws_every_parameter_from_the_seed_alone():
    torch.manual_seed(123)                                   # global state must not matter
    a = vit.build(SMALL, 7)
    torch.manual_seed(456)
    b = vit.build(SMALL, 7)
    c = vit.build(SMALL, 8)
    for name, value in a.state_dict().items():
        assert torch.equal(value, b.state_dict()[name]), name
    assert not torch.equal(a.blocks[0].mix.qkv.weight, c.blocks[0].mix.qkv.weight)
    assert not torch.equal(a.space, c.space)
    assert torch.count_nonzero(a.head.weight) == 0 and torch.count_nonzero(a.head.bias) == 0
    # learned positions: 0.02 * N(0, 1); linear layers: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    positions = torch.cat([a.space.flatten(), a.time.flatten()])
    assert positions.std().item() == pytest.approx(0.02, rel=0.15)
    assert a.embed.weight.abs().max() <= 1 / SMALL.patch_dim ** 0.5
    assert a.blocks[0].norm1.weight.eq(1).all()


def test_init_parameters_draws_positions_from_the_generator_and_zeroes_the_head():
    model = vit.PredictiveViT(SMALL)
    with torch.no_grad():
        model.head.weight.fill_(1.0)
    model.init_parameters(rng.torch_generator(3))
    generator = rng.torch_generator(3)
    torch.testing.assert_close(model.space.detach(), rng.normal((SMALL.patches_per_frame, SMALL.width),
                                                                generator, std=0.02))
    torch.testing.assert_close(model.time.detach(), rng.normal((SMALL.frames, SMALL.width), generator, std=0.02))
    assert torch.count_nonzero(model.head.weight) == 0


def test_self_attention_is_the_shared_attention_function():
    layer = _model(SMALL).blocks[0].mix
    x = torch.rand(2, SMALL.tokens, SMALL.width, generator=torch.Generator().manual_seed(4))
    q, k, v = layer.qkv(x).view(2, SMALL.tokens, 3, SMALL.heads, -1).permute(2, 0, 3, 1, 4)
    expected, expected_weights = attention.attention(q, k, v, need_weights=True)
    out, weights = layer(x, return_weights=True)
    torch.testing.assert_close(weights, expected_weights)
    torch.testing.assert_close(out, layer.out(expected.transpose(1, 2).reshape(2, SMALL.tokens, SMALL.width)))
    reference = torch.nn.functional.scaled_dot_product_attention(q, k, v)   # torch's own
    torch.testing.assert_close(expected, reference, atol=1e-5, rtol=1e-5)
    fused, no_weights = layer(x)
    assert no_weights is None
    torch.testing.assert_close(fused, out, atol=1e-5, rtol=1e-5)


def test_sinusoidal_positions_are_the_shared_table():
    config = dataclasses.replace(SMALL, pos_embedding="sinusoidal")
    model = vit.build(config, 0)
    half = config.width // 2
    table = positional.sinusoidal(config.grid, half)
    torch.testing.assert_close(model.space[:, :half], table.repeat_interleave(config.grid, 0))  # rows
    torch.testing.assert_close(model.space[:, half:], table.repeat(config.grid, 1))            # columns
    torch.testing.assert_close(model.time, 0.5 * positional.sinusoidal(config.frames, config.width))
    assert not hasattr(vit, "sinusoid")


def test_tube_tokens_see_their_own_past_and_without_attention_nothing_else():
    tube = dataclasses.replace(SMALL, token_kind="tube", use_attention=False)
    assert tube.tokens == SMALL.patches_per_frame and not vit.validate(tube)
    assert vit.validate(dataclasses.replace(SMALL, token_kind="cube"))
    model = _model(tube)
    x = _frames(tube)
    assert _changed_patches(model, x, frame=0, patch=5) == {5}            # its own past reaches it
    assert _changed_patches(model, x, frame=1, patch=5) == {5}            # and no other patch
    mixing = _model(dataclasses.replace(tube, use_attention=True))
    assert len(_changed_patches(mixing, x, frame=0, patch=5)) == SMALL.patches_per_frame
    zero = vit.build(tube, 0)                                             # zero head: copies
    with torch.no_grad():
        torch.testing.assert_close(zero(x), x[:, -1])
    learned = vit.build(dataclasses.replace(tube, pos_embedding="learned"), 0)
    assert not hasattr(learned, "time") and learned.space.shape == (SMALL.patches_per_frame, SMALL.width)
