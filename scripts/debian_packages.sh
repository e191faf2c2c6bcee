#!/usr/bin/env bash
# Install the Debian packages named on the command line (package:command pairs) whose command is missing.
# As root they are installed with apt-get; otherwise the script says which command to run and fails.
set -euo pipefail
missing=()
for pair in "$@"; do
  command -v "${pair#*:}" >/dev/null || [[ -x /usr/sbin/${pair#*:} ]] || missing+=("${pair%%:*}")
done
(( ${#missing[@]} )) || exit 0
if [[ $(id -u) != 0 ]]; then
  echo "请先安装：sudo apt-get install -y ${missing[*]}" >&2
  echo "Missing Debian packages: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
apt-get install -y -q "${missing[@]}" >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }
