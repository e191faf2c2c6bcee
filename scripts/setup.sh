#!/usr/bin/env bash
# Create .venv/ with Python 3.10 from requirements.lock; re-run only when the lock changes.
set -euo pipefail
cd "$(dirname "$0")/.."

is_python310() {
  [[ -n "$1" && -x "$1" ]] && "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null
}

# Python 3.10 (Rasa 3.6 supports 3.8-3.10): on PATH, then through pyenv, then through uv.
find_python() {
  local candidate
  for candidate in python3.10 python3 python; do
    if is_python310 "$(command -v "$candidate" 2>/dev/null)"; then
      command -v "$candidate"
      return 0
    fi
  done
  local pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
  if command -v pyenv >/dev/null 2>&1; then
    pyenv_root="$(pyenv root)"
  fi
  for candidate in $(ls -d "$pyenv_root"/versions/3.10.*/bin/python 2>/dev/null | sort -V -r); do
    if is_python310 "$candidate"; then
      echo "$candidate"
      return 0
    fi
  done
  if command -v uv >/dev/null 2>&1; then
    candidate="$(uv python find 3.10 2>/dev/null || true)"
    if is_python310 "$candidate"; then
      echo "$candidate"
      return 0
    fi
  fi
  cat >&2 <<'EOF'
错误：没有找到 Python 3.10（Rasa 3.6 只支持 Python 3.8–3.10）。请任选一种方式安装后重试：
  pyenv install 3.10.13          （已装 pyenv 时）
  uv python install 3.10         （已装 uv 时）
  sudo apt-get install python3.10 python3.10-venv   （发行版提供 3.10 时，如 Ubuntu 22.04）
Python 3.10 was not found on PATH, in pyenv ($PYENV_ROOT/versions/3.10.*) or through uv; install it with one of
the commands above and run this again.
EOF
  exit 1
}

stamp=.venv/.lock-sha256
wanted=$(sha256sum requirements.lock | cut -d' ' -f1)
if [[ -f $stamp && $(cat "$stamp") == "$wanted" ]]; then
  exit 0
fi

python=$(find_python)
echo "Using $python ($("$python" --version))"
[[ -x .venv/bin/python ]] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade "$(grep "^pip==" requirements.lock)"
# The lock lists every package with its exact version, so nothing is resolved anew.
.venv/bin/python -m pip install --quiet --no-deps -r requirements.lock
.venv/bin/python -m pip check
echo "$wanted" > "$stamp"
echo "Python environment ready in .venv/"
