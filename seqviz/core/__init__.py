"""Shared machinery: device choice, seeded generators, checkpoints, the training loop, timing, memory budgets."""
