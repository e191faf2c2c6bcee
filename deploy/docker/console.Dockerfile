# syntax=docker/dockerfile:1
# The operator console (`python -m console serve`, FastAPI, port 8002): staff only.
# Build from the repository root:  docker build -f deploy/docker/console.Dockerfile -t govbot/console .
# Ignore file: deploy/docker/console.Dockerfile.dockerignore (BuildKit reads <Dockerfile>.dockerignore).
#
# In production it refuses to start until `python -m bot migrate` has brought the conversation log's schema
# up to date (the compose file's `migrate` service, the Kubernetes Job in deploy/k8s/migrate-job.yaml).
# Users: docker compose run --rm console python -m console create-user NAME --role admin
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
    GOVBOT_ENV=production \
    GOVBOT_VAR_DIR=/app/var \
    CONSOLE_HOST=0.0.0.0 \
    CONSOLE_PORT=8002
WORKDIR /app
COPY . /app
# The code stays root-owned (read-only for the process); only var/ and generated files belong to app.
RUN mkdir -p /app/var && chown app:app /app/var
USER app
EXPOSE 8002
# /login is the one page an anonymous client gets (200); everything else redirects there.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "/app/deploy/docker/healthcheck.py", "http://127.0.0.1:8002/login"]
CMD ["python", "-m", "console", "serve"]
