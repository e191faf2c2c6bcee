#!/usr/bin/env bash
# Everything `make test` runs: lint, data checks, training (skipped when unchanged), all tests.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export PYTHONPATH=$PWD TF_CPP_MIN_LOG_LEVEL=2

# Browser tests drive Debian's Chromium through its matching ChromeDriver; the cluster tests balance with HAProxy.
bash scripts/debian_packages.sh chromium:chromium chromium-driver:chromedriver haproxy:haproxy
$PY -m ruff check .
$PY -m bot train
$PY -m pytest -p no:cacheprovider "$@"
