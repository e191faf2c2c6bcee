# syntax=docker/dockerfile:1
# The government-services SANDBOX (`python -m services`, FastAPI, port 8001): sample data only.
# Build from the repository root:  docker build -f deploy/docker/services.Dockerfile -t govbot/services .
# Ignore file: deploy/docker/services.Dockerfile.dockerignore (BuildKit reads <Dockerfile>.dockerignore).
#
# A real deployment does NOT run this image: the sandbox stands in for the government back ends (identity,
# rent subsidy, immigration, campus recruitment, health code, work resumption, vehicle transfer, tax, court)
# and holds fictitious people. Point SERVICES_URL of the action server at the real systems, which implement
# the same API contract (docs/services-api.md). It is here for acceptance tests and demonstrations.
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
    SERVICES_HOST=0.0.0.0 \
    SERVICES_PORT=8001
WORKDIR /app
COPY . /app
# The code stays root-owned (read-only for the process); only var/ and generated files belong to app.
RUN mkdir -p /app/var && chown app:app /app/var
USER app
EXPOSE 8001
# /health is public; /docs is the OpenAPI page. It migrates (Alembic) and seeds its own database at start.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "/app/deploy/docker/healthcheck.py", "http://127.0.0.1:8001/health"]
CMD ["python", "-m", "services"]
