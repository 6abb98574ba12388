#!/usr/bin/env bash
# The demo: builds everything, then shows kubesession against your cluster when
# KUBECONFIG is set, else against a real kube-apiserver it starts on 127.0.0.1.
#
#   bash scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

bash scripts/setup.sh
exec .venv/bin/python examples/demo.py "$@"
