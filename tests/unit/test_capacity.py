"""Recall-k: the task, the bits-recalled estimate, training, the sweep's summary and the shipped CSV."""

import dataclasses
import math

import numpy as np
import pytest
import torch

from seqviz.recurrent import capacity, tasks


def test_recall_task_shapes_layout_and_targets():
    batch = tasks.recall_task(50, 4, seed=3, delay=9)
    assert batch.x.shape == (50, 13) and batch.targets.shape == (50, 13) and batch.tokens.shape == (50, 4)
    assert torch.equal(batch.x[:, :4], batch.tokens)                     # the tokens come first
    assert torch.all(batch.x[:, 4:9] == tasks.BLANK)                     # then blanks up to the request
    assert torch.all(batch.x[:, 9:] == tasks.REQUEST)                    # the request at every answer step
    assert torch.all(batch.targets[:, :9] == 0)                          # "nothing yet" before it
    assert torch.equal(batch.targets[:, batch.answer_steps], batch.tokens)
    assert set(batch.tokens.unique().tolist()) == {1, 2, 3}
    # every token waits exactly `delay` steps for its answer, whatever k is
    for k in (1, 3, 6):
        b = tasks.recall_task(2, k, seed=0, delay=8)
        positions = torch.arange(b.x.shape[1])
        assert torch.all(positions[b.answer_steps] - positions[:k] == 8)
    assert tasks.recall_length(5) == tasks.RECALL_DELAY + 5


def test_recall_task_is_seeded_and_splits_differ():
    a, b = tasks.recall_task(20, 5, seed=7), tasks.recall_task(20, 5, seed=7)
    assert torch.equal(a.x, b.x)
    assert not torch.equal(a.x, tasks.recall_task(20, 5, seed=8).x)
    assert not torch.equal(a.x, tasks.recall_task(20, 5, seed=7, split="val").x)
    with pytest.raises(ValueError):
        tasks.recall_task(4, 0, seed=0)
    with pytest.raises(ValueError):
        tasks.recall_task(4, 5, seed=0, delay=3)                          # request before the tokens end


def test_recall_task_carries_k_log2_3_bits():
    """The tokens are uniform and independent: the empirical entropy of the k tokens is k log2 3."""
    k = 3
    batch = tasks.recall_task(30_000, k, seed=0)
    codes = (batch.tokens - 1) @ torch.tensor([9, 3, 1])                 # one of 27 sequences
    p = torch.bincount(codes, minlength=27).double() / len(codes)
    entropy = float(-(p * p.log2()).sum())
    assert entropy == pytest.approx(k * math.log2(3), abs=0.01)


def test_bits_recalled_closed_forms():
    rng = np.random.default_rng(0)
    tokens = rng.integers(1, 4, size=(60_000, 2))
    assert capacity.bits_recalled(tokens, tokens) == pytest.approx(2 * math.log2(3), abs=1e-3)
    guesses = rng.integers(1, 4, size=tokens.shape)
    assert capacity.bits_recalled(tokens, guesses) == pytest.approx(0.0, abs=1e-3)
    constant = np.ones_like(tokens)
    assert capacity.bits_recalled(tokens, constant) == 0.0
    # first token known, second guessed: log2 3 bits
    half = np.stack([tokens[:, 0], guesses[:, 1]], axis=1)
    assert capacity.bits_recalled(tokens, half) == pytest.approx(math.log2(3), abs=1e-3)


def test_a_gru_learns_recall_2_and_a_tiny_one_scores_as_chance_before_training():
    config = capacity.RecallConfig(hidden=16, k=2, steps=300, seed=0)
    model, score = capacity.train_recall(config)
    assert score.sequence_accuracy > 0.9 and score.bits_recalled > 0.9 * 2 * math.log2(3)
    untrained = capacity.score_recall(capacity.build_recall_model(config), config)
    assert untrained.token_accuracy < 0.5 and untrained.bits_recalled < 0.5
    # weights come from the seed: the same config builds the same model, another seed another one
    a = capacity.build_recall_model(config).state_dict()
    b = capacity.build_recall_model(config).state_dict()
    c = capacity.build_recall_model(dataclasses.replace(config, seed=1)).state_dict()
    assert all(torch.equal(a[n], b[n]) for n in a) and not all(torch.equal(a[n], c[n]) for n in a)


def test_train_recall_stops_on_the_flag():
    seen = []
    config = capacity.RecallConfig(hidden=4, k=2, steps=200)
    capacity.train_recall(config, on_progress=seen.append, should_stop=lambda: len(seen) >= 3)
    assert seen[-1].step < 200


def test_summary_and_limits_from_rows():
    rows = [capacity.CapacityRow("gru", 4, k, seed, 10, acc, acc, bits, 0.1)
            for k, seed, acc, bits in [(1, 0, 1.0, 1.58), (1, 1, 0.8, 1.2), (2, 0, 0.5, 2.0), (2, 1, 0.3, 1.0)]]
    (one, two) = capacity.summarise(rows)
    assert (one.k, two.k) == (1, 2)
    assert one.sequence_accuracy.mean == pytest.approx(0.9)
    assert one.sequence_accuracy.std == pytest.approx(np.std([1.0, 0.8], ddof=1))
    assert (two.bits_recalled.minimum, two.bits_recalled.maximum) == (1.0, 2.0)
    (limit,) = capacity.capacity_limits([one, two])
    assert limit.reliable_k == 1 and limit.peak_k == 2 and limit.peak_bits == pytest.approx(1.5)


def test_shipped_recall_sweep_has_every_point_over_three_seeds_and_a_growing_limit():
    rows = capacity.read_csv()
    assert {r.seed for r in rows} >= {0, 1, 2}
    points = {(r.hidden, r.k) for r in rows}
    assert points == {(h, k) for h in capacity.SWEEP_HIDDENS for k in capacity.SWEEP_KS}
    limits = capacity.capacity_limits(capacity.summarise(rows))
    # what the page says: the largest state holds more than the smallest
    assert limits[-1].reliable_k > limits[0].reliable_k
    assert limits[-1].peak_bits > limits[0].peak_bits + 3
    assert all(0 <= r.bits_recalled <= r.k * math.log2(3) + 1e-6 for r in rows)


def test_a_shipped_recall_row_reproduces():
    rows = {(r.hidden, r.k, r.seed): r for r in capacity.read_csv()}
    row = rows[(8, 3, 0)]
    _, score = capacity.train_recall(capacity.RecallConfig(hidden=8, k=3, seed=0, steps=row.steps))
    assert score.token_accuracy == pytest.approx(row.token_accuracy, abs=0.02)
