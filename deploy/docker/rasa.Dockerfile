# syntax=docker/dockerfile:1
# The Rasa server (`python -m bot serve`: Rasa 3.6 with the API guard, the channels' webhooks, REST API on 5005).
# Build from the repository root:  docker build -f deploy/docker/rasa.Dockerfile -t govbot/rasa .
# Ignore file: deploy/docker/rasa.Dockerfile.dockerignore (BuildKit reads <Dockerfile>.dockerignore).
#
# The trained model: `make train` (or `python -m bot train`) first, and models/ is baked into the image at
# /app/models. To build an image without a model (an empty models/ folder must exist: `mkdir -p models`), mount
# the models at /app/models instead (a volume, or a Kubernetes volume); Rasa loads the newest .tar.gz there.
# The model must have been trained by Rasa 3.6.21 (the version in requirements.lock).

# ---- dependencies: the locked virtualenv, built with a compiler at hand, copied into the slim image
FROM python:3.10-slim AS deps
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY requirements.lock /tmp/requirements.lock
# As scripts/setup.sh: pip from the lock, then every package at its locked version with nothing resolved anew.
RUN pip install --quiet "$(grep '^pip==' /tmp/requirements.lock)" \
 && pip install --no-deps -r /tmp/requirements.lock \
 && pip check

# ---- the image
FROM python:3.10-slim
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /home/app --create-home app
COPY --from=deps /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONPATH=/app \
    TF_CPP_MIN_LOG_LEVEL=2 \
    MPLCONFIGDIR=/tmp/matplotlib \
    RASA_TELEMETRY_ENABLED=false \
    GOVBOT_ENV=production \
    GOVBOT_VAR_DIR=/app/var \
    RASA_HOST=0.0.0.0 \
    RASA_PORT=5005 \
    SANIC_WORKERS=1
WORKDIR /app
COPY . /app
# The code stays root-owned (read-only for the process); only var/ and generated files belong to app.
# Generated NLU assets (jieba user dictionary, spaCy zh pipeline): config.yml loads them from nlu/generated/ at
# run time, so they are built into the image, from the same gazetteers the model was trained with.
RUN python -m nlu.build \
 && mkdir -p /app/var /app/models \
 && chown -R app:app /app/var /app/models /app/nlu/generated
USER app
EXPOSE 5005
# /status needs the API token (bot/api_guard.py) and answers 409 until a model is loaded: it is the readiness.
HEALTHCHECK --interval=15s --timeout=5s --start-period=180s --retries=3 \
  CMD ["python", "/app/deploy/docker/healthcheck.py", "http://127.0.0.1:5005/status", "--token-env", "RASA_API_TOKEN"]
# One Sanic worker per container; run one replica per CPU (or set SANIC_WORKERS to the CPUs of the container:
# each worker loads the model, ~1 GB, and needs REDIS_URL, i.e. the Redis lock store).
CMD ["python", "-m", "bot", "serve"]
