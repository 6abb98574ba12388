#!/usr/bin/env bash
# Prepare everything the demo and the tests need, on a fresh machine or a used one:
# the local kube-apiserver (built once, cached), a virtualenv in .venv, and kubesession
# built in release mode into it. Safe to run again: each step is skipped when done.
#
#   bash scripts/setup.sh [extra pip packages...]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

bash scripts/build-apiserver.sh

if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check "maturin>=1.16,<2" "cryptography>=41" "orjson>=3.9" "$@"
# Release build: the benchmarks and the GIL/timing-free tests want the real thing.
.venv/bin/maturin develop --release -q
