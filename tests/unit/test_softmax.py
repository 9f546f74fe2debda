"""softmax flattening: closed form against torch and against the course's numbers."""

import math

import numpy as np
import pytest
import torch

from seqviz.attention import softmax

COURSE_P_HOT = {2: 0.731059, 10: 0.231969, 100: 0.026724, 1000: 0.0027136, 100000: 2.7182e-05}


@pytest.mark.parametrize("D", [2, 10, 1000, 100000])
@pytest.mark.parametrize("scale", [1.0, 0.0, 3.5, -2.0, 30.0])
def test_closed_form_equals_torch_softmax(D, scale):
    closed = softmax.onehot_softmax(D, scale)
    measured = softmax.onehot_softmax_torch(D, scale)
    x = torch.zeros(D, dtype=torch.float64)
    x[3 % D] = scale
    reference = torch.softmax(x, 0)
    assert closed[0] == pytest.approx(float(reference[3 % D]), abs=1e-10)
    assert closed[1] == pytest.approx(float(reference[(3 % D) - 1]), abs=1e-10)
    assert np.allclose(closed, measured, atol=1e-10)


@pytest.mark.parametrize("D,expected", sorted(COURSE_P_HOT.items()))
def test_curriculum_values(D, expected):
    p_hot, p_other = softmax.onehot_softmax(D)
    assert p_hot == pytest.approx(expected, rel=5e-5)
    assert p_hot == pytest.approx(math.e / (math.e + D - 1), rel=1e-12)
    assert p_hot + (D - 1) * p_other == pytest.approx(1.0, abs=1e-12)


def test_returns_python_floats_in_float64():
    p_hot, p_other = softmax.onehot_softmax(7, 2.0)
    assert type(p_hot) is float and type(p_other) is float
    assert p_other == pytest.approx(1 / (math.exp(2) + 6), rel=1e-15)


@pytest.mark.parametrize("D,p,expected", [(10, 0.9, 4.394), (1000, 0.9, 9.104)])
def test_scale_for_target_curriculum(D, p, expected):
    c = softmax.scale_for_target(D, p)
    assert c == pytest.approx(expected, abs=5e-4)
    assert softmax.onehot_softmax(D, c)[0] == pytest.approx(p, abs=1e-12)
    assert softmax.onehot_softmax(D, c - 0.01)[0] < p


def test_large_scales_do_not_overflow():
    assert softmax.onehot_softmax(100000, 800.0) == (1.0, 0.0)
    p_hot, p_other = softmax.onehot_softmax(10, -800.0)
    assert p_hot == 0.0 and p_other == pytest.approx(1 / 9)


@pytest.mark.parametrize("bad", [1, 0, -5, 2.5, True])
def test_rejects_bad_dimensions(bad):
    with pytest.raises(ValueError):
        softmax.onehot_softmax(bad)


@pytest.mark.parametrize("p", [0.0, 1.0, -0.1, 1.5])
def test_rejects_bad_targets(p):
    with pytest.raises(ValueError):
        softmax.scale_for_target(10, p)


def test_entropy_matches_direct_sum_and_is_bounded():
    for D in (2, 10, 1000):
        p_hot, p_other = softmax.onehot_softmax(D)
        direct = -(p_hot * math.log(p_hot) + (D - 1) * p_other * math.log(p_other))
        assert softmax.onehot_entropy(D) == pytest.approx(direct)
        assert softmax.onehot_entropy(D) < math.log(D)
    assert softmax.onehot_entropy(1000, 0.0) == pytest.approx(math.log(1000))


def test_flattening_table_gap_is_below_1e_minus_6():
    table = softmax.flattening_table([2, 10, 1000, 100000], 1.0, "cpu")
    assert isinstance(table, softmax.FlatteningTable) and table.D.tolist() == [2, 10, 1000, 100000]
    assert table.gap.max() < 1e-6
    assert np.all(np.diff(table.p_hot_closed) < 0)


def test_dot_product_variance_grows_with_d_k_and_scaling_restores_it():
    for d_k in (4, 64, 512):
        stats = softmax.dot_product_stats(d_k, num_keys=256, num_queries=256, seed=1)
        assert stats.raw_scores.var() == pytest.approx(d_k, rel=0.2)
        assert stats.scaled_scores.var() == pytest.approx(1.0, rel=0.2)
    big = softmax.dot_product_stats(1024, seed=0)
    assert big.raw_max_weight > 0.8 > big.scaled_max_weight
    assert big.raw_entropy < big.scaled_entropy <= big.max_entropy


def test_dot_product_stats_is_seeded():
    a = softmax.dot_product_stats(16, seed=3)
    b = softmax.dot_product_stats(16, seed=3)
    c = softmax.dot_product_stats(16, seed=4)
    assert np.array_equal(a.raw_scores, b.raw_scores)
    assert not np.array_equal(a.raw_scores, c.raw_scores)
