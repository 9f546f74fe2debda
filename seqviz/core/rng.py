"""Random generators built from a seed, and model initialisation that draws from them.

seqviz never touches process-global random state (``torch.manual_seed``,
``np.random.seed``): two students rerunning a page at the same moment would take each
other's draws. Every random draw takes a generator made here from the seed it is given.

``init_parameters`` re-draws a model's parameters from a generator with the same
distributions as PyTorch's defaults (``nn.Linear.reset_parameters``: weights
kaiming-uniform with a = sqrt(5), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), biases
U(-1/sqrt(fan_in), 1/sqrt(fan_in)); recurrent layers U(-1/sqrt(H), 1/sqrt(H));
LayerNorm ones and zeros; Embedding N(0, 1)).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

__all__ = ["torch_generator", "numpy_generator", "init_parameters", "normal", "uniform"]


def torch_generator(seed: int, device: str | torch.device = "cpu") -> torch.Generator:
    """A torch generator on `device` seeded with `seed`."""
    return torch.Generator(device=device).manual_seed(int(seed))


def numpy_generator(seed: int) -> np.random.Generator:
    """A numpy generator seeded with `seed`."""
    return np.random.default_rng(int(seed))


def normal(shape: tuple[int, ...], generator: torch.Generator, std: float = 1.0) -> torch.Tensor:
    """std * N(0, 1) of `shape`, drawn on the CPU from `generator`."""
    return std * torch.randn(shape, generator=generator)


def uniform(shape: tuple[int, ...], bound: float, generator: torch.Generator) -> torch.Tensor:
    """U(-bound, bound) of `shape`, drawn on the CPU from `generator`."""
    return (torch.rand(shape, generator=generator) * 2 - 1) * bound


_OWN_INIT = (nn.LayerNorm, nn.GELU, nn.ReLU, nn.Tanh, nn.Sequential, nn.ModuleList, nn.ModuleDict, nn.Identity)


@torch.no_grad()
def init_parameters(module: nn.Module, generator: torch.Generator) -> nn.Module:
    """Re-draw every parameter of `module` from `generator` (PyTorch's default distributions).

    Modules may define ``init_parameters(generator)`` for parameters of their own (for
    example learned positional embeddings); it is called after their children are set.
    Raises TypeError for a leaf module with parameters this function does not know, so
    no parameter silently keeps a draw from the global generator.
    """
    for child in module.modules():
        own = [p for _, p in child.named_parameters(recurse=False)]
        if isinstance(child, (nn.Linear, nn.Conv1d, nn.Conv2d)):
            fan_in = child.weight[0].numel()
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            child.weight.copy_(uniform(tuple(child.weight.shape), bound, generator))
            if child.bias is not None:
                child.bias.copy_(uniform(tuple(child.bias.shape), bound, generator))
        elif isinstance(child, (nn.RNNBase, nn.RNNCellBase)):
            bound = 1 / math.sqrt(child.hidden_size)
            for p in own:
                p.copy_(uniform(tuple(p.shape), bound, generator))
        elif isinstance(child, nn.Embedding):
            child.weight.copy_(normal(tuple(child.weight.shape), generator))
        elif isinstance(child, nn.LayerNorm):
            if child.weight is not None:
                child.weight.fill_(1.0)
            if child.bias is not None:
                child.bias.fill_(0.0)
        elif hasattr(child, "init_parameters"):
            pass  # handled below, after its children
        elif own and not isinstance(child, _OWN_INIT):
            raise TypeError(f"init_parameters does not know how to initialise {type(child).__name__}; "
                            "give it an init_parameters(generator) method")
    for child in module.modules():
        if hasattr(child, "init_parameters") and callable(child.init_parameters):
            child.init_parameters(generator)
    return module
