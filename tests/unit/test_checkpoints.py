"""Checkpoints round-trip weights and config, and refuse files that are not theirs."""

from dataclasses import dataclass

import pytest
import torch

from seqviz.core import checkpoints
from tests.conftest import ROOT


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


def test_a_record_beside_the_checkpoint_and_the_model_rebuilt_from_it(tmp_path):
    model = torch.nn.Linear(3, 2)
    path = checkpoints.save(tmp_path / "m.pt", model, TinyConfig(), {"loss": 0.25},
                            record={"loss": [1.0, 0.5], "command": "python -m x"})
    assert checkpoints.record_path(path) == tmp_path / "m.json"
    loaded = checkpoints.load_model(path, lambda config: torch.nn.Linear(config["width"], 2))
    assert isinstance(loaded, checkpoints.Checkpoint) and not loaded.model.training
    assert torch.equal(loaded.model.weight, model.weight)
    assert loaded.config == {"width": 3} and loaded.metrics == {"loss": 0.25}
    assert loaded.record == {"loss": [1.0, 0.5], "command": "python -m x"}
    with pytest.raises(RuntimeError):           # strict: a model of another shape is refused
        checkpoints.load_model(path, lambda config: torch.nn.Linear(4, 2))


def test_a_missing_record_is_empty_and_a_broken_one_is_refused(tmp_path):
    path = checkpoints.save(tmp_path / "m.pt", torch.nn.Linear(3, 2), TinyConfig())
    assert checkpoints.load_record(path) == {}
    checkpoints.record_path(path).write_text("{not json")
    with pytest.raises(ValueError, match="not a readable record"):
        checkpoints.load_record(path)
    checkpoints.record_path(path).write_text("[1, 2]")
    with pytest.raises(ValueError, match="not a seqviz checkpoint record"):
        checkpoints.load_record(path)


def test_checkpoints_are_read_only_here():
    """Weights are read through seqviz.core.checkpoints alone (torch.load with weights_only)."""
    offenders = [str(file.relative_to(ROOT)) for folder in ("seqviz", "pages", "bench")
                 for file in (ROOT / folder).rglob("*.py")
                 if "torch.load(" in file.read_text() and file != ROOT / "seqviz/core/checkpoints.py"]
    assert offenders == []
    assert "weights_only=True" in (ROOT / "seqviz/core/checkpoints.py").read_text()
