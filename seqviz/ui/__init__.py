"""The streamlit side of seqviz: the only package here that imports streamlit.

torch's thread count is process-wide, so it is set once, here, at import: every
session on the server shares the same intra-op pool instead of fighting over it.
"""

import os

import torch

try:
    _threads = int(os.environ.get("SEQVIZ_THREADS", "0") or 0)
except ValueError:          # a mistyped setting keeps torch's default rather than stopping the server
    _threads = 0
if _threads > 0:
    torch.set_num_threads(_threads)
