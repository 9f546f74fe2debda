"""Shipped checkpoints: weights only, with the config that rebuilds the model.

A checkpoint file holds ``{"config": dict of plain values, "state_dict": tensors,
"metrics": dict of floats}`` and is read with ``torch.load(weights_only=True)``, so
loading one never runs code from the file. models/MODELS.md records the seeded
command that made each file and the metrics it reached.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch
from torch import nn

MODELS_DIR = Path(__file__).resolve().parents[2] / "models"

__all__ = ["MODELS_DIR", "save", "load", "load_weights"]


def save(path: str | Path, model: nn.Module, config: Any, metrics: dict[str, float] | None = None
         ) -> Path:
    """Write the model's weights (cast to float32, on the CPU) with its config and metrics."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    plain_config = dataclasses.asdict(config) if dataclasses.is_dataclass(config) else dict(config)
    state = {k: v.detach().to("cpu", torch.float32 if v.is_floating_point() else v.dtype).contiguous()
             for k, v in model.state_dict().items()}
    torch.save({"config": plain_config, "state_dict": state,
                "metrics": {k: float(v) for k, v in (metrics or {}).items()}}, path)
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
