#!/usr/bin/env bash
# Installs the real-weight benchmark peers (bench/real.py, docs/benchmarks.md "Real weights") into a
# venv OUTSIDE the tree. Run by hand (through the CPU gate on a shared machine); CI never runs it.
#
#   bash scripts/setup_peers.sh                 # venv: ${BERTCPP_PEERS_VENV:-~/.cache/bertcpp/venv-peers}
#   REF_PY=/work/venv/ref/bin/python bash scripts/setup_peers.sh
#   WITH_LLAMA=1 bash scripts/setup_peers.sh    # also llama-cpp-python (compiles llama.cpp: ~15 min) and
#                                               # its GGUF converter (~/.cache/bertcpp/llama.cpp-convert)
#   WITH_ST_BACKENDS=1 bash scripts/setup_peers.sh  # also a second venv for sentence-transformers'
#                                               # backend="onnx"/"openvino" (bench/real.py e2e st-onnx-*,
#                                               # st-openvino-*): ${BERTCPP_ST_VENV:-~/.cache/bertcpp/venv-st4}
#
# PyTorch CPU wheels are not on PyPI, so torch, transformers, sentence-transformers and tokenizers
# come from the reference venv ($REF_PY's site-packages, appended to this venv's sys.path by a .pth
# file); pip is constrained to those versions so it never shadows them with others.
set -euo pipefail
REF_PY=${REF_PY:-/work/venv/ref/bin/python}
VENV=${BERTCPP_PEERS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/bertcpp/venv-peers}
here=$(cd "$(dirname "$0")/.." && pwd)
case "$VENV" in "$here"/*) echo "setup_peers.sh: venv $VENV is inside the source tree" >&2; exit 2;; esac
[ -x "$REF_PY" ] || { echo "setup_peers.sh: reference python $REF_PY not found (set REF_PY)" >&2; exit 2; }
"$REF_PY" -c 'import torch, transformers, sentence_transformers, tokenizers' ||
  { echo "setup_peers.sh: $REF_PY lacks torch/transformers/sentence-transformers/tokenizers" >&2; exit 2; }

if [ ! -x "$VENV/bin/python" ]; then "$REF_PY" -m venv "$VENV"; fi
ref_site=$("$REF_PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
own_site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$ref_site" > "$own_site/zz_bertcpp_ref_site.pth"   # after our own packages on sys.path

cons="$VENV/constraints.txt"
"$REF_PY" - > "$cons" <<'PY'
from importlib.metadata import version
for p in ("torch", "transformers", "sentence-transformers", "tokenizers", "numpy", "safetensors",
          "huggingface-hub"):
    print(f"{p}=={version(p)}")
PY
pip=("$VENV/bin/python" -m pip install --disable-pip-version-check -q -c "$cons")
# Core peers: each pinned to what was verified here (see docs/benchmarks.md).
"${pip[@]}" onnx onnxruntime openvino ctranslate2
# Optional: a failure leaves the peer out (the harness says so) instead of failing the set-up.
# Not here: optimum / optimum-intel (sentence-transformers' backend="onnx"/"openvino"): no release
# imports with transformers 5.x (optimum-onnx 0.1.0 wants transformers<4.58); WITH_ST_BACKENDS=1 below
# puts them in a venv of their own with transformers 4.57.
for extra in nncf onnxscript; do
  "${pip[@]}" "$extra" || echo "setup_peers.sh: warning: $extra did not install; its peer is skipped" >&2
done
if [ "${WITH_LLAMA:-0}" = 1 ]; then
  # One sdist gives both the library (built here, -march=native) and the converter of the same llama.cpp
  # commit (vendor/llama.cpp: convert_hf_to_gguf.py + conversion/ + gguf-py/), copied to $LLAMA_DIR.
  LLAMA_VERSION=${LLAMA_VERSION:-0.3.36}
  LLAMA_DIR=${LLAMA_CPP_CONVERT_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/bertcpp/llama.cpp-convert}
  sdist_dir=$(mktemp -d)
  if "$VENV/bin/python" -m pip download --disable-pip-version-check -q --no-deps --no-binary :all: \
       "llama-cpp-python==$LLAMA_VERSION" -d "$sdist_dir" &&
     CMAKE_ARGS="-DGGML_NATIVE=ON" "${pip[@]}" "$sdist_dir"/llama_cpp_python-*.tar.gz; then
    rm -rf "$LLAMA_DIR" && mkdir -p "$LLAMA_DIR"
    tar -xzf "$sdist_dir"/llama_cpp_python-*.tar.gz -C "$sdist_dir"
    src=$(echo "$sdist_dir"/llama_cpp_python-*/vendor/llama.cpp)
    cp -r "$src/convert_hf_to_gguf.py" "$src/conversion" "$src/gguf-py" "$LLAMA_DIR/"
  else
    echo "setup_peers.sh: warning: llama-cpp-python did not build; its peer is skipped" >&2
  fi
  rm -rf "$sdist_dir"
fi
if [ "${WITH_ST_BACKENDS:-0}" = 1 ]; then
  # Only torch comes from the reference venv (.pth, pinned); transformers 4.57.x, the
  # sentence-transformers release that supports it (pip's pick: 5.7.0 here), optimum-onnx[onnxruntime]
  # and optimum-intel[openvino] are this venv's own and shadow the reference venv's (the .pth is last).
  ST_VENV=${BERTCPP_ST_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/bertcpp/venv-st4}
  case "$ST_VENV" in "$here"/*) echo "setup_peers.sh: venv $ST_VENV is inside the source tree" >&2; exit 2;; esac
  if [ ! -x "$ST_VENV/bin/python" ]; then "$REF_PY" -m venv "$ST_VENV"; fi
  st_site=$("$ST_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  echo "$ref_site" > "$st_site/zz_bertcpp_ref_site.pth"
  torch_pin=$("$REF_PY" -c 'from importlib.metadata import version; print(version("torch"))')
  "$ST_VENV/bin/python" -m pip install --disable-pip-version-check -q "torch==$torch_pin" \
    "transformers==${ST_TRANSFORMERS:-4.57.*}" sentence-transformers "optimum-onnx[onnxruntime]" \
    "optimum-intel[openvino]"
  "$ST_VENV/bin/python" -c 'import sentence_transformers, optimum.onnxruntime, optimum.intel' ||
    { echo "setup_peers.sh: $ST_VENV: sentence-transformers' onnx/openvino backends do not import" >&2; exit 1; }
  "$ST_VENV/bin/python" - <<'PY'
from importlib.metadata import version
print("venv-st4:", ", ".join(f"{p} {version(p)}" for p in (
    "torch", "transformers", "sentence-transformers", "tokenizers", "optimum", "optimum-onnx",
    "optimum-intel", "onnxruntime", "openvino", "nncf")))
PY
  echo "$ST_VENV/bin/python"
fi
"$VENV/bin/python" - <<'PY'
from importlib.metadata import version, PackageNotFoundError
for p in ("torch", "transformers", "sentence-transformers", "onnxruntime", "onnx", "openvino",
          "nncf", "ctranslate2", "optimum", "optimum-intel", "optimum-onnx", "llama-cpp-python"):
    try:
        print(f"{p}\t{version(p)}")
    except PackageNotFoundError:
        print(f"{p}\t-")
PY
echo "$VENV/bin/python"
