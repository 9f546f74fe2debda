"""The memory tasks: where the token sits, what it is, reproducibility."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from seqviz.recurrent.tasks import REQUEST, memory_task, token_positions


def _positions(x):
    return (x[:, :-1] != 0).float().argmax(dim=1)


@settings(max_examples=25, deadline=None)
@given(length=st.integers(3, 200), seed=st.integers(0, 10_000), generalize=st.booleans(),
       split=st.sampled_from(["train", "val", "test"]))
def test_one_token_then_the_request(length, seed, generalize, split):
    x, y = memory_task(64, length, seed=seed, generalize=generalize, split=split)
    assert x.shape == (64, length) and y.shape == (64,)
    assert torch.all(x[:, -1] == REQUEST)
    body = x[:, :-1]
    assert torch.all((body != 0).sum(dim=1) == 1)
    assert torch.all(body.sum(dim=1) == y)
    assert set(y.tolist()) <= {1, 2, 3}
    low, high = token_positions(length, generalize, split)
    positions = _positions(x)
    assert torch.all((positions >= low) & (positions < high))


def test_memorygen_splits_the_halves_and_memory_covers_all():
    length = 41
    train_pos = _positions(memory_task(4000, length, seed=0, generalize=True, split="train")[0])
    val_pos = _positions(memory_task(4000, length, seed=0, generalize=True, split="val")[0])
    assert train_pos.max() < 20 <= val_pos.min()
    assert train_pos.min() == 0 and val_pos.max() == length - 2
    both = _positions(memory_task(4000, length, seed=0, split="val")[0])
    assert both.min() == 0 and both.max() == length - 2
    _, y = memory_task(3000, length, seed=1)
    counts = torch.bincount(y, minlength=4)[1:].float() / 3000
    assert torch.all((counts - 1 / 3).abs() < 0.04)


def test_seed_reproducible_and_splits_differ():
    a = memory_task(50, 30, seed=7)
    b = memory_task(50, 30, seed=7)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], memory_task(50, 30, seed=8)[0])
    assert not torch.equal(a[0], memory_task(50, 30, seed=7, split="val")[0])


def test_pinned_position_and_bad_arguments():
    x, _ = memory_task(10, 12, seed=0, position=4)
    assert torch.all(_positions(x) == 4)
    with pytest.raises(ValueError):
        memory_task(10, 2, seed=0)
    with pytest.raises(ValueError):
        memory_task(10, 12, seed=0, split="other")
    with pytest.raises(ValueError):
        memory_task(10, 12, seed=0, position=11)
