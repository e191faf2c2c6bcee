# syntax=docker/dockerfile:1
# The log consumer (`python -m bot log-consumer`): events from RabbitMQ (RABBITMQ_URL), masked,
# into the PostgreSQL conversation log (DATABASE_URL), acknowledged after commit. No HTTP port.
# Build from the repository root:  docker build -f deploy/docker/log-consumer.Dockerfile -t govbot/log-consumer .
# Ignore file: deploy/docker/log-consumer.Dockerfile.dockerignore (BuildKit reads <Dockerfile>.dockerignore).

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
    GOVBOT_VAR_DIR=/app/var
WORKDIR /app
COPY . /app
# The code stays root-owned (read-only for the process); only var/ and generated files belong to app.
RUN mkdir -p /app/var && chown app:app /app/var
USER app
# No HTTP endpoint to probe: the orchestrator restarts it when it exits; RabbitMQ keeps unacknowledged events.
HEALTHCHECK NONE
CMD ["python", "-m", "bot", "log-consumer"]
