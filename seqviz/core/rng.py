"""Random generators built from a seed, and model initialisation that draws from them.

seqviz never touches process-global random state (``torch.manual_seed``,
``np.random.seed``): two students rerunning a page at the same moment would take each
other's draws. Every random draw takes a generator made here from the seed it is given.

``init_parameters`` re-draws a model's parameters from a generator with the same
distributions as PyTorch's defaults (``nn.Linear.reset_parameters``: weights
kaiming-uniform with a = sqrt(5), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), biases
U(-1/sqrt(fan_in), 1/sqrt(fan_in)); recurrent layers U(-1/sqrt(H), 1/sqrt(H));
LayerNorm ones and zeros; Embedding N(0, 1)).

Building a layer runs those defaults first, drawing from torch's global generator, and the
draws are thrown away when ``init_parameters`` or ``load_state_dict`` fills the weights.
Models are therefore built inside ``no_default_draws()``, which skips them, so the global
generator is never moved.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.overrides import TorchFunctionMode

__all__ = ["torch_generator", "numpy_generator", "init_parameters", "no_default_draws", "normal", "uniform"]


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


# what torch's layers call to initialise themselves: every one draws from the global generator
# unless it is given one
_DEFAULT_DRAWS = frozenset({
    nn.init.uniform_, nn.init.normal_, nn.init.trunc_normal_, nn.init.kaiming_uniform_, nn.init.kaiming_normal_,
    nn.init.xavier_uniform_, nn.init.xavier_normal_, nn.init.orthogonal_, nn.init.sparse_,
    torch.Tensor.uniform_, torch.Tensor.normal_, torch.Tensor.random_, torch.Tensor.bernoulli_,
    torch.Tensor.exponential_, torch.Tensor.cauchy_, torch.Tensor.log_normal_, torch.Tensor.geometric_})


class no_default_draws(TorchFunctionMode):  # lower case: used like torch.no_grad
    """Build modules inside this to skip torch's default initialisation: every draw it would
    take from the global generator fills its tensor with NaN instead, for ``init_parameters``
    or ``load_state_dict`` to overwrite (a weight that nothing fills shows at once). Fills
    that draw nothing (LayerNorm's ones, a padding row's zeros) still run. A torch function
    mode, so it holds in the calling thread only."""

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        if func in _DEFAULT_DRAWS and kwargs.get("generator") is None:
            tensor = args[0] if args else kwargs["tensor"]
            with torch.no_grad():
                return tensor.fill_(math.nan) if tensor.is_floating_point() else tensor
        return func(*args, **kwargs)


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
