#!/usr/bin/env bash
# Prepare everything the demo and the tests need, on a fresh machine or a used one: a
# virtualenv in .venv with kubesession built in release mode into it, and, when
# KUBESESSION_APISERVER=1 (the tests, the demo's --real-apiserver), the local
# kube-apiserver (built once, cached). Safe to run again: each step is skipped when done.
#
#   bash scripts/setup.sh [extra pip packages...]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

if [[ ${KUBESESSION_APISERVER:-0} == 1 ]]; then
  bash scripts/build-apiserver.sh
fi

if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check "maturin>=1.16,<2" "cryptography>=41" "orjson>=3.9" "$@"
# Release build: the benchmarks and the GIL/timing-free tests want the real thing.
.venv/bin/maturin develop --release -q
