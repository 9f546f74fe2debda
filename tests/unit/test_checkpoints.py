"""Checkpoints round-trip weights and config, and refuse files that are not theirs."""

from dataclasses import dataclass

import pytest
import torch

from seqviz.core import checkpoints


@dataclass(frozen=True)
class TinyConfig:
    width: int = 3


def test_round_trip(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    path = checkpoints.save(tmp_path / "m.pt", model, TinyConfig(), {"accuracy": 0.5})
    other = torch.nn.Linear(3, 2)
    payload = checkpoints.load_weights(other, path)
    assert payload["config"] == {"width": 3} and payload["metrics"] == {"accuracy": 0.5}
    assert torch.equal(other.weight, model.weight)


def test_rejects_garbage_and_foreign_files(tmp_path):
    garbage = tmp_path / "bad.pt"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        checkpoints.load(garbage)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(1)}, foreign)
    with pytest.raises(ValueError, match="not a seqviz checkpoint"):
        checkpoints.load(foreign)
    with pytest.raises(ValueError, match="no checkpoint"):
        checkpoints.load(tmp_path / "missing.pt")
