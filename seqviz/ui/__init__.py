"""The streamlit side of seqviz: the only package here that imports streamlit.

torch's thread count is process-wide, so it is set once, here, at import: every
session on the server shares the same intra-op pool instead of fighting over it.

Memory arenas are capped here too. glibc gives each thread that allocates under contention
an arena of its own, up to 8 per core, and the memory freed in them mostly stays with the
process: with thirty sessions (a script thread each) the server kept 22 % more memory two
minutes after they had all closed; with two arenas, 2 % (bench/load.py). Setting
MALLOC_ARENA_MAX=2 in the server's environment does the same from its first allocation.
"""

import ctypes
import os

import torch

try:
    _threads = int(os.environ.get("SEQVIZ_THREADS", "0") or 0)
except ValueError:          # a mistyped setting keeps torch's default rather than stopping the server
    _threads = 0
try:
    ctypes.CDLL("libc.so.6").mallopt(-8, int(os.environ.get("MALLOC_ARENA_MAX", "2") or 2))  # -8: M_ARENA_MAX
except (OSError, AttributeError, ValueError):  # not glibc: its allocator decides
    pass
if _threads > 0:
    torch.set_num_threads(_threads)
