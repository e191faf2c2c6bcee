#!/usr/bin/env bash
# Create .venv/ with Python 3.10 from requirements.lock; re-run only when the lock changes.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  for candidate in python3.10 /root/.pyenv/versions/3.10.13/bin/python; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  echo "错误：需要 Python 3.10（Rasa 3.6 不支持更新的版本）。请安装 python3.10 并确保它在 PATH 中。" >&2
  exit 1
}

stamp=.venv/.lock-sha256
wanted=$(sha256sum requirements.lock | cut -d' ' -f1)
if [[ -f $stamp && $(cat "$stamp") == "$wanted" ]]; then
  exit 0
fi

python=$(find_python)
[[ -x .venv/bin/python ]] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade "$(grep "^pip==" requirements.lock)"
# The lock lists every package with its exact version, so nothing is resolved anew.
.venv/bin/python -m pip install --quiet --no-deps -r requirements.lock
.venv/bin/python -m pip check
echo "$wanted" > "$stamp"
echo "Python environment ready in .venv/"
