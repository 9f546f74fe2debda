"""Attention: softmax flattening, the attention function, positions, permutation, conv arithmetic, cost."""
