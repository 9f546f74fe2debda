#!/usr/bin/env bash
# The container's two commands: `serve` (the default) starts the app for a class on port
# 8501 of every interface; `test` installs the test requirements and runs exactly the
# README's test command, under CI=true (a missing browser fails the run).
set -euo pipefail
case "${1:-serve}" in
  serve)
    shift || true
    exec .venv/bin/streamlit run app.py --server.address 0.0.0.0 --server.port 8501 "$@" ;;
  test)
    export CI=true
    .venv/bin/pip install -q -r requirements-dev.txt
    exec bash -c ".venv/bin/ruff check . && .venv/bin/python -m pytest" ;;
  *)
    exec "$@" ;;
esac
