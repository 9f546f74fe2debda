# seqviz in a container: the app, served to a class, and its whole test suite.
#
#   docker build -t seqviz .
#   docker run --rm -p 8501:8501 seqviz                       # the app, on http://<host>:8501
#   docker run --rm seqviz test                               # ruff and the whole suite (CI=true)
#   docker run --rm -p 8501:8501 -e SEQVIZ_MAX_JOBS=2 seqviz  # the server's limits: see the README
#
# torch comes from PyTorch's CPU index (a few hundred MB instead of the multi-GB CUDA build);
# for a GPU host build with --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu128
# and run with --gpus all.
FROM python:3.11-slim

ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
# Chromium: the charts' PNG/SVG downloads on the server, and the browser tests
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home seqviz
WORKDIR /home/seqviz/app
COPY --chown=seqviz:seqviz . .
USER seqviz
RUN python -m venv .venv \
 && .venv/bin/pip install --no-cache-dir "torch==2.13.0" --index-url "$TORCH_INDEX" \
 && .venv/bin/pip install --no-cache-dir -r requirements.txt

ENV PYTHONUNBUFFERED=1 \
    MALLOC_ARENA_MAX=2
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
  CMD .venv/bin/python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"
COPY --chown=seqviz:seqviz .ci/docker-entrypoint.sh /usr/local/bin/seqviz-entrypoint
ENTRYPOINT ["/usr/local/bin/seqviz-entrypoint"]
CMD ["serve"]
