#!/usr/bin/env bash
# Build a real kube-apiserver (and kube-controller-manager) from Debian's kubernetes
# source package, once, into a cache outside the repo. Repeat runs cost nothing.
#
#   KUBESESSION_APISERVER_CACHE  where the binaries go (default /var/cache/kubesession/k8s-1.20.2)
#
# Debian bookworm ships Kubernetes v1.20.2 as source only. Built with Go >= 1.18 as shipped,
# the server panics in the vendored modern-go/reflect2 v1.0.1; we swap in Debian's reflect2
# 1.0.2 and json-iterator 1.1.12 before building.
set -euo pipefail

CACHE=${KUBESESSION_APISERVER_CACHE:-/var/cache/kubesession/k8s-1.20.2}
export DEBIAN_FRONTEND=noninteractive
# etcd and openssl are needed at run time, cached binaries or not.
if ! command -v etcd >/dev/null; then
  apt-get update -qq && apt-get install -y -qq etcd-server >/dev/null
fi
if [[ -x $CACHE/bin/kube-apiserver && -x $CACHE/bin/kube-controller-manager ]]; then
  echo "kube-apiserver: cached in $CACHE/bin"
  exit 0
fi
echo "kube-apiserver: building v1.20.2 from Debian's source (about 8 minutes on 2 cores, once)"

need_apt=()
for pkg in golang-go rsync dpkg-dev etcd-server openssl \
           golang-github-modern-go-reflect2-dev golang-github-json-iterator-go-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
src_list=/etc/apt/sources.list.d/kubesession-deb-src.sources
if [[ ! -f $src_list ]]; then
  sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources > "$src_list"
  apt-get update -qq
elif (( ${#need_apt[@]} )); then
  apt-get update -qq
fi
if (( ${#need_apt[@]} )); then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi

work=$(mktemp -d /var/tmp/kubesession-k8s-build.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get source -qq --download-only kubernetes >/dev/null
dpkg-source -x kubernetes_*.dsc src >/dev/null
tree=$work/src

# Replace the vendored reflect2 / json-iterator with Debian's fixed versions.
for pair in "github.com/modern-go/reflect2" "github.com/json-iterator/go"; do
  dst=$tree/vendor/$pair
  rm -rf "$dst"; mkdir -p "$dst"
  (cd "/usr/share/gocode/src/$pair" && find . -maxdepth 1 -type f \( -name '*.go' -o -name '*.s' \) ! -name '*_test.go' -exec cp {} "$dst/" \;)
done

mkdir -p "$tree/.go/src/k8s.io"
ln -s "$tree" "$tree/.go/src/k8s.io/kubernetes"
cd "$tree/.go/src/k8s.io/kubernetes"
export GOPATH=$tree/.go CGO_ENABLED=0 GOFLAGS=-mod=vendor GO111MODULE=on
export KUBE_GIT_VERSION=v1.20.2 KUBE_GIT_TREE_STATE=clean
make WHAT="cmd/kube-apiserver cmd/kube-controller-manager" >"$work/build.log" 2>&1 || {
  tail -50 "$work/build.log"; exit 1; }

# Install atomically so an interrupted build never leaves a half-filled cache.
rm -rf "$CACHE/bin.tmp"; mkdir -p "$CACHE/bin.tmp"
cp _output/bin/kube-apiserver _output/bin/kube-controller-manager "$CACHE/bin.tmp/"
rm -rf "$CACHE/bin"; mv "$CACHE/bin.tmp" "$CACHE/bin"
echo "kube-apiserver: built into $CACHE/bin"
