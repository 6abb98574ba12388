#!/usr/bin/env bash
# Run every test: the Rust core's unit tests (no Python needed), then the Python suite,
# which talks to a real kube-apiserver started on 127.0.0.1.
#
#   bash scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

KUBESESSION_APISERVER=1 bash scripts/setup.sh "pytest>=8" pytest-timeout nbclient nbformat ipykernel "mypy==2.4.1"
# The registry tests run the real Distribution registry, Debian's docker-registry.
if ! command -v docker-registry >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >/dev/null
fi
echo "== cargo test (core layers, without Python)"
cargo test -q --no-default-features
echo "== pytest (against a real kube-apiserver)"
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
