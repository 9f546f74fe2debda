"""Scaled dot-product attention against numpy, torch's own and the worked example; the one
attention function and the one sinusoidal table, and every path of the package that uses them."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from seqviz.attention import attention, cost, permutation, positional, softmax

WORKED_NO_SOFTMAX = [[11, 15, 18], [5, 6.5, 7.5], [2, 2.5, 3], [0.5, 1, 1.5], [3.5, 5, 6]]


def numpy_reference(Q, K, V):
    scores = Q @ K.T / math.sqrt(Q.shape[1])
    weights = np.exp(scores - scores.max(axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)
    return weights @ V, weights


def test_worked_example_without_softmax_is_exact():
    output, weights = attention.scaled_dot_product(attention.WORKED_Q, attention.WORKED_K,
                                                   attention.WORKED_V, apply_softmax=False)
    assert np.array_equal(output, np.array(WORKED_NO_SOFTMAX))
    assert np.array_equal(weights, [[1, 1, 1], [0, .5, .5], [0, .5, 0], [.5, 0, 0], [.5, 0, .5]])
    products = attention.scores(attention.WORKED_Q, attention.WORKED_K, scale=1.0)
    assert np.array_equal(products, [[2, 2, 2], [0, 1, 1], [0, 1, 0], [1, 0, 0], [1, 0, 1]])


def test_worked_example_with_softmax():
    output, weights = attention.scaled_dot_product(attention.WORKED_Q, attention.WORKED_K,
                                                   attention.WORKED_V)
    assert np.allclose(weights[0], [1 / 3] * 3, atol=1e-15)
    assert np.round(output[0], 4).tolist() == [3.6667, 5.0, 6.0]
    assert np.allclose(weights.sum(axis=1), 1.0)


def test_numpy_in_numpy_out_and_torch_in_torch_out():
    out_np, w_np = attention.scaled_dot_product(attention.WORKED_Q, attention.WORKED_K, attention.WORKED_V)
    assert isinstance(out_np, np.ndarray) and isinstance(w_np, np.ndarray)
    t = [torch.as_tensor(m) for m in (attention.WORKED_Q, attention.WORKED_K, attention.WORKED_V)]
    out_t, w_t = attention.scaled_dot_product(*t)
    assert isinstance(out_t, torch.Tensor) and isinstance(w_t, torch.Tensor)
    assert np.allclose(out_t.numpy(), out_np)


shapes = st.tuples(st.integers(1, 6), st.integers(1, 6), st.integers(1, 6), st.integers(1, 6),
                   st.integers(0, 10_000))


def draw_qkv(case):
    """Q (N_Q, d_k), K (N_KV, d_k), V (N_KV, d_v) with N(0, 1) entries from the case's seed."""
    n_q, n_kv, d_k, d_v, seed = case
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n_q, d_k)), rng.normal(size=(n_kv, d_k)), rng.normal(size=(n_kv, d_v))


@settings(max_examples=40, deadline=None)
@given(shapes)
def test_matches_numpy_and_torch_sdpa(case):
    n_q, n_kv, _, d_v, _ = case
    Q, K, V = draw_qkv(case)
    output, weights = attention.scaled_dot_product(Q, K, V)
    ref_out, ref_w = numpy_reference(Q, K, V)
    assert output.shape == (n_q, d_v) and weights.shape == (n_q, n_kv)
    assert np.allclose(output, ref_out, atol=1e-12) and np.allclose(weights, ref_w, atol=1e-12)
    torch_out = F.scaled_dot_product_attention(*(torch.as_tensor(m) for m in (Q, K, V)))
    assert np.allclose(output, torch_out.numpy(), atol=1e-10)
    assert np.allclose(weights.sum(axis=1), 1.0, atol=1e-12)
    assert np.all(weights >= 0)


@settings(max_examples=30, deadline=None)
@given(shapes)
def test_wrong_axis_makes_columns_sum_to_one(case):
    Q, K, V = draw_qkv(case)
    _, weights = attention.scaled_dot_product(Q, K, V, normalise_over="queries")
    assert np.allclose(weights.sum(axis=0), 1.0)


def test_explicit_scale_and_batch_dimensions():
    rng = np.random.default_rng(0)
    Q, K, V = (torch.as_tensor(rng.normal(size=s)) for s in ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6)))
    output, weights = attention.scaled_dot_product(Q, K, V, scale=0.5)
    reference = F.scaled_dot_product_attention(Q, K, V, scale=0.5)
    assert output.shape == (2, 3, 4, 6) and weights.shape == (2, 3, 4, 5)
    assert torch.allclose(output, reference, atol=1e-10)


@pytest.mark.parametrize("q,k,v,words", [((5, 4), (3, 3), (3, 3), "dₖ"),
                                         ((5, 4), (3, 4), (2, 3), "one value")])
def test_shape_rules(q, k, v, words):
    with pytest.raises(ValueError, match=words):
        attention.scaled_dot_product(np.ones(q), np.ones(k), np.ones(v))


def test_split_heads_and_multi_head_match_per_slice_attention():
    rng = np.random.default_rng(1)
    Q, K, V = rng.normal(size=(4, 6)), rng.normal(size=(5, 6)), rng.normal(size=(5, 3))
    split = attention.split_heads(Q, 3)
    assert split.shape == (3, 4, 2) and np.array_equal(split[1], Q[:, 2:4])
    outputs, weights = attention.multi_head_weights(Q, K, V, 3)
    assert outputs.shape == (3, 4, 3) and weights.shape == (3, 4, 5)
    for h in range(3):
        out_h, w_h = attention.scaled_dot_product(Q[:, 2 * h:2 * h + 2], K[:, 2 * h:2 * h + 2], V)
        assert np.allclose(weights[h], w_h) and np.allclose(outputs[h], out_h)
    with pytest.raises(ValueError, match="do not divide"):
        attention.split_heads(Q, 4)
    assert attention.largest_divisor_at_most(6, 4) == 3
    assert attention.largest_divisor_at_most(4, 3) == 2


def test_explain_gathers_every_step():
    steps = attention.explain(attention.WORKED_Q, attention.WORKED_K, attention.WORKED_V,
                              apply_softmax=False, heads=3)
    assert steps.heads == 2
    assert np.array_equal(steps.output, np.array(WORKED_NO_SOFTMAX))
    assert np.array_equal(steps.products, [[2, 2, 2], [0, 1, 1], [0, 1, 0], [1, 0, 0], [1, 0, 1]])
    assert np.array_equal(steps.scaled, steps.products / 2)
    assert steps.head_weights.shape == (2, 5, 3)


@pytest.mark.parametrize("cell,words", [("", "empty"), (None, "empty"), (float("nan"), "empty"),
                                        ("abc", "not a number"), ("nan", "not a finite"),
                                        ("inf", "not a finite"), ("-inf", "not a finite"),
                                        ("1e308", "too large")])
def test_matrix_from_cells_rejects_bad_cells(cell, words):
    with pytest.raises(ValueError, match=words) as error:
        attention.matrix_from_cells([["1", "2"], ["3", cell]], "Q")
    assert "Q row 2, column 2" in str(error.value)


def test_matrix_from_cells_reads_numbers():
    matrix = attention.matrix_from_cells([[" 1", "2.5"], ["-3e2", 4]], "K")
    assert matrix.dtype == np.float64 and matrix.tolist() == [[1, 2.5], [-300, 4]]
    with pytest.raises(ValueError, match="no rows"):
        attention.matrix_from_cells([], "V")


def test_identity_attention_converges():
    V = np.random.default_rng(0).normal(size=(6, 3))
    sweep = attention.identity_sweep([0, 2, 5, 10, 20, 40], V)
    assert np.all(np.diff(sweep.weight_error) < 0) and np.all(np.diff(sweep.output_error) < 0)
    assert sweep.weight_error[-1] < 1e-5 and sweep.output_error[-1] < 1e-4
    output, weights = attention.identity_attention(0.0, V)
    assert np.allclose(weights, 1 / 6) and np.allclose(output, V.mean(axis=0))
    for c in (1.0, 7.5):  # the diagonal is the softmax-flattening closed form with D = N
        assert attention.identity_attention(c, V)[1][0, 0] == pytest.approx(
            softmax.onehot_softmax(6, c / math.sqrt(6))[0], rel=1e-12)


def test_q_equals_k_with_modest_scale_is_not_the_identity():
    X = np.random.default_rng(0).normal(size=(8, 8))
    _, weights = attention.self_similarity_attention(X, 1.0)
    assert np.all(np.argmax(weights, axis=1) == np.arange(8))  # unit rows: itself is best
    assert np.diag(weights).mean() < 0.9                       # but far from one-hot
    _, sharp = attention.self_similarity_attention(X, 4.0)
    assert np.diag(sharp).mean() > np.diag(weights).mean()


def test_random_qkv_is_seeded():
    a, b = attention.random_qkv(3, 4, 2, 5, seed=7), attention.random_qkv(3, 4, 2, 5, seed=7)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert [m.shape for m in a] == [(3, 2), (4, 2), (4, 5)]


def test_matrix_from_cells_caps_the_size():
    side = attention.MAX_MATRIX_SIDE
    assert attention.matrix_from_cells([["1"] * side] * side, "Q").shape == (side, side)
    with pytest.raises(ValueError, match=f"Q has 1,000 rows; the playground takes at most {side}"):
        attention.matrix_from_cells([["1", "2"]] * 1000, "Q")
    with pytest.raises(ValueError, match="K has 17 columns"):
        attention.matrix_from_cells([["1"] * 17], "K")


def test_fused_path_equals_the_explicit_path_and_returns_no_weights():
    Q, K, V = (torch.as_tensor(m) for m in draw_qkv((4, 6, 8, 3, 5)))
    fused, none = attention.attention(Q, K, V, need_weights=False)
    explicit, weights = attention.attention(Q, K, V)
    assert none is None and weights.shape == (4, 6)
    assert torch.allclose(fused, explicit, atol=1e-12)
    assert torch.allclose(fused, F.scaled_dot_product_attention(Q, K, V), atol=1e-12)
    with pytest.raises(ValueError, match="normalise_over"):
        attention.attention(Q, K, V, normalise_over="rows")


def test_key_mask_equals_attention_over_the_kept_keys_and_torch_sdpa():
    g = torch.Generator().manual_seed(3)
    q, k, v = torch.randn(2, 4, 8, generator=g), torch.randn(2, 6, 8, generator=g), torch.randn(2, 6, 5, generator=g)
    lengths = torch.tensor([6, 3])
    mask = (torch.arange(6) < lengths[:, None])[:, None, :]          # (B, 1, N_KV)
    out, weights = attention.attention(q, k, v, mask=mask)
    assert torch.all(weights[1, :, 3:] == 0)
    for b, n in enumerate(lengths.tolist()):
        alone, alone_weights = attention.attention(q[b], k[b, :n], v[b, :n])
        assert torch.allclose(out[b], alone, atol=1e-6)
        assert torch.allclose(weights[b, :, :n], alone_weights, atol=1e-6)
    fused, _ = attention.attention(q, k, v, mask=mask, need_weights=False)
    assert torch.allclose(fused, F.scaled_dot_product_attention(q, k, v, attn_mask=mask), atol=1e-6)
    assert torch.allclose(fused, out, atol=1e-6)


def test_sinusoidal_table_is_the_closed_form():
    for width in (8, 7, 1):
        table = positional.sinusoidal(50, width).double().numpy()
        pos, column = np.arange(50)[:, None], np.arange(width)[None, :]
        angle = pos / 10000 ** ((column - column % 2) / width)   # 2i / d for columns 2i and 2i + 1
        expected = np.where(column % 2 == 0, np.sin(angle), np.cos(angle))
        assert table.shape == (50, width)
        assert np.allclose(table, expected, atol=2e-5)
    assert torch.equal(positional.sinusoidal(3, 4)[0], torch.tensor([0.0, 1.0, 0.0, 1.0]))
    with pytest.raises(ValueError):
        positional.sinusoidal(3, 0)


@pytest.fixture
def attention_calls(monkeypatch):
    """Every call of the one attention function, from every module that imported it,
    checked against torch's fused kernel with copies of the same inputs."""
    calls = []
    real = attention.attention

    def spy(q, k, v, **kwargs):
        output, weights = real(q, k, v, **kwargs)
        if kwargs.get("apply_softmax", True) and kwargs.get("normalise_over", "keys") == "keys":
            reference = F.scaled_dot_product_attention(q.clone(), k.clone(), v.clone(),
                                                       scale=kwargs.get("scale"))
            assert torch.allclose(output, reference, atol=1e-5, rtol=1e-4)
        calls.append(tuple(q.shape))
        return output, weights

    for module in (attention, cost, permutation, softmax):
        monkeypatch.setattr(module, "attention", spy)
    return calls


def test_identity_and_playground_paths_go_through_attention(attention_calls):
    V = np.random.default_rng(3).normal(size=(5, 3))
    output, weights = attention.identity_attention(4.0, V)
    reference = F.scaled_dot_product_attention(*(torch.as_tensor(m) for m in (4.0 * np.eye(5), np.eye(5), V)))
    assert np.allclose(output, reference.numpy(), atol=1e-12)
    attention.identity_sweep([0.0, 3.0], V)
    attention.self_similarity_attention(V, 2.0)
    attention.explain(attention.WORKED_Q, attention.WORKED_K, attention.WORKED_V, heads=2)
    assert attention_calls == [(5, 5), (2, 5, 5), (5, 3), (5, 4), (2, 5, 2)]


def test_permutation_block_goes_through_attention(attention_calls):
    block = permutation.EquivariantBlock(permutation.BlockConfig(d_in=6))
    X = torch.randn(2, 9, 6, generator=torch.Generator().manual_seed(0))
    out = block(X)
    assert attention_calls == [(2, 9, 32)]
    assert torch.allclose(out.weights.sum(-1), torch.ones(2, 9))


def test_cost_benchmark_and_scaling_statistics_go_through_attention(attention_calls):
    cost.measure_costs(cost.CostSettings(max_side=8, channels=4, repeats=1), "cpu")
    assert attention_calls and set(attention_calls) == {(64, 4)}
    attention_calls.clear()
    stats = softmax.dot_product_stats(16, num_queries=8)
    assert attention_calls == [(8, 16)] * 4
    assert stats.scaled_scores == pytest.approx(stats.raw_scores / 4)
