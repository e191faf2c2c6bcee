#!/usr/bin/env bash
# Everything `make test` runs: lint, data checks, training (skipped when unchanged), all tests.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export PYTHONPATH=$PWD TF_CPP_MIN_LOG_LEVEL=2

# Browser tests drive Debian's Chromium through its matching ChromeDriver.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  if [[ $(id -u) == 0 ]]; then
    apt-get install -y -q chromium chromium-driver >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q chromium chromium-driver >/dev/null; }
  else
    echo "请先安装 Chromium：sudo apt-get install -y chromium chromium-driver（浏览器测试需要它）" >&2
    exit 1
  fi
fi
$PY -m ruff check .
$PY -m bot train
$PY -m pytest -p no:cacheprovider "$@"
