"""Recurrent networks: from-scratch cells, the TCN, memory tasks, training, the probe, gradients through time."""
