#!/usr/bin/env bash
# Every CUDA path of seqviz, one line per check, then `gpu_check: N passed, M failed, total S s`.
# Run from anywhere on a GPU machine; under 8 minutes on one H200. Uses $PYTHON, else the
# python3 on PATH (torch, numpy and scikit-image are enough, with OpenCV for the captioning check;
# no streamlit). The checks live in bench/gpu_check.py (see its docstring); arguments are passed
# on, e.g. `--only device gradients`.
# Without CUDA every check prints "SKIP ... no CUDA"; the exit status is 1 only when a check failed.
set -u
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 2
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
exec "${PYTHON:-python3}" -m bench.gpu_check "$@"
