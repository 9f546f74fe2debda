"""Shipped checkpoints: weights only, with the config that rebuilds the model.

A checkpoint file holds ``{"config": dict of plain values, "state_dict": tensors,
"metrics": dict of floats}`` and is read with ``torch.load(weights_only=True)``, so
loading one never runs code from the file. Beside it, a ``.json`` record may say how
it was made and hold its training curve. This module is the only reader of both:
models/MODELS.md records the seeded command that made each file and the metrics it
reached.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from seqviz.core import rng

MODELS_DIR = Path(__file__).resolve().parents[2] / "models"

__all__ = ["MODELS_DIR", "Checkpoint", "save", "load", "load_weights", "load_model", "load_record",
           "record_path"]


@dataclass(frozen=True)
class Checkpoint:
    """A loaded checkpoint: the rebuilt model (eval mode, CPU), its config, metrics and record."""

    model: nn.Module
    config: dict[str, Any]
    metrics: dict[str, float]
    record: dict[str, Any]     # the .json beside the file; empty when there is none


def record_path(path: str | Path) -> Path:
    """Where the JSON record of the checkpoint at `path` lives."""
    return Path(path).with_suffix(".json")


def save(path: str | Path, model: nn.Module, config: Any, metrics: dict[str, float] | None = None,
         record: dict[str, Any] | None = None, leave_out: tuple[str, ...] = ()) -> Path:
    """Write the model's weights (cast to float32, on the CPU) with its config and metrics,
    and `record` (plain JSON values) beside it when given. Weights whose names start with one
    of `leave_out` are not written (parts shipped once in a file of their own)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    plain_config = dataclasses.asdict(config) if dataclasses.is_dataclass(config) else dict(config)
    state = {k: v.detach().to("cpu", torch.float32 if v.is_floating_point() else v.dtype).contiguous()
             for k, v in model.state_dict().items() if not (leave_out and k.startswith(leave_out))}
    torch.save({"config": plain_config, "state_dict": state,
                "metrics": {k: float(v) for k, v in (metrics or {}).items()}}, path)
    if record is not None:
        record_path(path).write_text(json.dumps(record, indent=1))
    return path


def load(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint safely (weights_only=True); raises ValueError if unreadable."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no checkpoint at {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - any unpickling failure means a bad file
        raise ValueError(f"{path.name} is not a readable checkpoint: {error}") from None
    if not isinstance(payload, dict) or "state_dict" not in payload or "config" not in payload:
        raise ValueError(f"{path.name} is not a seqviz checkpoint")
    return payload


def load_weights(model: nn.Module, path: str | Path) -> dict[str, Any]:
    """Load a checkpoint's weights into `model` (strict); returns the whole payload."""
    payload = load(path)
    model.load_state_dict(payload["state_dict"])
    return payload


def load_record(path: str | Path) -> dict[str, Any]:
    """The JSON record beside the checkpoint at `path`; {} when there is none.
    Raises ValueError when it exists but is not a JSON object."""
    side = record_path(path)
    if not side.is_file():
        return {}
    try:
        record = json.loads(side.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{side.name} is not a readable record: {error}") from None
    if not isinstance(record, dict):
        raise ValueError(f"{side.name} is not a seqviz checkpoint record")
    return record


def load_model(path: str | Path, build: Callable[[dict[str, Any]], nn.Module]) -> Checkpoint:
    """Rebuild a model from the checkpoint's config with `build`, load its weights (strict),
    and return it in eval mode with the config, metrics and record."""
    payload = load(path)
    with rng.no_default_draws():         # the weights come from the file: draw none for them
        model = build(payload["config"])
    model.load_state_dict(payload["state_dict"])
    return Checkpoint(model.eval(), dict(payload["config"]), dict(payload.get("metrics", {})),
                      load_record(path))
