"""A model's fingerprint for the isolation tests: equal hashes, bit-for-bit equal weights."""

import hashlib

import torch
from torch import nn


def weights_hash(model: nn.Module) -> str:
    """SHA-256 over the model's state_dict: every tensor's name, dtype, shape and bytes, in name order."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        flat = tensor.detach().cpu().contiguous().reshape(-1)
        digest.update(f"{name}|{flat.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(flat.view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()
