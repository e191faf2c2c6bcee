# syntax=docker/dockerfile:1
# The progress notifier (`python -m bot notifier`, FastAPI, port 8003): the back ends' signed state changes
# (POST /events) into the citizens' conversations through Rasa's API (RASA_URL, RASA_API_TOKEN); its rows live in
# the conversation log's database (DATABASE_URL). docs/notifications.md.
# Build from the repository root:  docker build -f deploy/docker/notifier.Dockerfile -t govbot/notifier .
# Ignore file: deploy/docker/notifier.Dockerfile.dockerignore (BuildKit reads <Dockerfile>.dockerignore).
#
# In production it refuses to start until `python -m bot migrate` has brought the conversation log's schema
# up to date (revision 0005 holds its tables), and without NOTIFY_WEBHOOK_SECRET (bot/production.py).

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
    NOTIFIER_HOST=0.0.0.0 \
    NOTIFIER_PORT=8003
WORKDIR /app
COPY . /app
# The code stays root-owned (read-only for the process); only var/ belongs to app. No generated NLU assets: the
# notifier never reads the model's files (the assistant's action words each notification).
RUN mkdir -p /app/var && chown app:app /app/var
USER app
EXPOSE 8003
# /health is the one route without a signature (POST /events needs X-Govbot-Signature).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "/app/deploy/docker/healthcheck.py", "http://127.0.0.1:8003/health"]
CMD ["python", "-m", "bot", "notifier"]
