#!/usr/bin/env bash
# Installs every Debian package bertcpp needs on a bare machine. Idempotent.
# Usage: scripts/setup.sh [--peers]   (--peers adds the benchmark peers: PyTorch, OpenBLAS, ONNX)
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

PKGS=(
  cmake g++ make pkg-config git ccache clang libclang-rt-14-dev libomp-14-dev
  libutf8proc-dev libonig-dev nlohmann-json3-dev libdnnl-dev ocl-icd-opencl-dev opencl-headers libzip-dev zlib1g-dev
  libcurl4-openssl-dev libcpp-httplib-dev libssl-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev qemu-user
  pybind11-dev python3-dev python3-numpy python3-pytest
)
# Node.js runs the real npm clients (openai, @huggingface/inference) in the server tests.
command -v node >/dev/null 2>&1 || PKGS+=(nodejs npm)
if [ "${1:-}" = "--peers" ]; then
  PKGS+=(libopenblas0-openmp python3-torch python3-onnx)
fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The server tests drive bertcpp serve with real npm clients; install them once (lock file pinned).
here=$(cd "$(dirname "$0")/.." && pwd)
if command -v npm >/dev/null 2>&1 && [ ! -d "$here/tests/server/clients/node_modules/openai" ]; then
  echo "setup: installing the npm clients for the server tests" >&2
  npm ci --prefix "$here/tests/server/clients" --ignore-scripts --no-audit --no-fund >&2 ||
    echo "setup: warning: npm ci failed; the real-client server test will be skipped" >&2
fi
