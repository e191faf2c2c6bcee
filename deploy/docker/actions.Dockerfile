# syntax=docker/dockerfile:1
# The action server (`python -m bot actions`: rasa-sdk with the token guard, port 5055).
# Build from the repository root:  docker build -f deploy/docker/actions.Dockerfile -t govbot/actions .
# Ignore file: deploy/docker/actions.Dockerfile.dockerignore (BuildKit reads <Dockerfile>.dockerignore).

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
    ACTION_HOST=0.0.0.0 \
    ACTION_PORT=5055
WORKDIR /app
COPY . /app
# The code stays root-owned (read-only for the process); only var/ and generated files belong to app.
# Generated NLU assets: the actions' knowledge base reads the jieba user dictionary (nlu/generated/jieba/).
RUN python -m nlu.build \
 && mkdir -p /app/var \
 && chown -R app:app /app/var /app/nlu/generated
USER app
EXPOSE 5055
# /health is the one route without ACTION_SERVER_TOKEN (bot/action_server.py).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "/app/deploy/docker/healthcheck.py", "http://127.0.0.1:5055/health"]
CMD ["python", "-m", "bot", "actions"]
