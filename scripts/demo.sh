#!/usr/bin/env bash
# The demo: builds kubesession, then shows it against your cluster when KUBECONFIG is
# set, else against an embedded FakeCluster; --real-apiserver starts (and on first use
# builds) a real kube-apiserver on 127.0.0.1 instead.
#
#   bash scripts/demo.sh [--real-apiserver]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

if [[ " $* " == *" --real-apiserver "* ]]; then
  export KUBESESSION_APISERVER=1
fi
bash scripts/setup.sh
exec .venv/bin/python examples/demo.py "$@"
