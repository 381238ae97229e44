#!/usr/bin/env bash
# schemathesis (PyPI) with every check over every operation of the server's own OpenAPI document
# (GET /api-doc/openapi.json), one `bertcpp serve` per tiny model. Exits non-zero on any failure.
# Usage: tools/schemathesis.sh [--install] [--bertcpp PATH] [--max-examples N] [MODEL_DIR...]
#   --install  creates the venv (~/.cache/bertcpp/venv-schemathesis, outside the tree) if missing
#   default models (tests/data/models): embedding, 3-label classifier, one-label reranker, MLM (SPLADE
#   route), token classifier
# Exit 77 (CTest's skip code) when the venv is missing and --install is not given.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${BERTCPP_SCHEMATHESIS_VENV:-$HOME/.cache/bertcpp/venv-schemathesis}
BERTCPP=build/bin/bertcpp
EXAMPLES=20
install=0
models=()
while [ $# -gt 0 ]; do
  case "$1" in
    --install) install=1; shift ;;
    --bertcpp) BERTCPP=$2; shift 2 ;;
    --max-examples) EXAMPLES=$2; shift 2 ;;
    -h|--help) sed -n 2,8p "$0"; exit 0 ;;
    *) models+=("$1"); shift ;;
  esac
done
[ ${#models[@]} -gt 0 ] || models=(tests/data/models/tiny-bert tests/data/models/tiny-distilbert-classifier
                                   tests/data/models/tiny-roberta-reranker tests/data/models/tiny-bert-pretraining-f16
                                   tests/data/models/tiny-distilbert-token)
if [ ! -x "$VENV/bin/st" ]; then
  if [ $install = 0 ]; then
    echo "schemathesis: no venv at $VENV (run tools/schemathesis.sh --install)" >&2
    exit 77
  fi
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q schemathesis
fi
[ -x "$BERTCPP" ] || { echo "schemathesis: $BERTCPP not built" >&2; exit 2; }

work=$(mktemp -d)
tools=$(pwd)/tools
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
failed=0
for m in "${models[@]}"; do
  log=$work/serve.log
  "$BERTCPP" serve --model "$m" --port 0 --threads 1 --http-threads 4 >"$log" 2>&1 &
  pid=$!
  port=
  for _ in $(seq 1 200); do
    port=$(grep -oE 'listening on http://127\.0\.0\.1:[0-9]+' "$log" | grep -oE '[0-9]+$' || true)
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$port" ]; then
    echo "schemathesis: bertcpp serve did not start for $m" >&2
    cat "$log" >&2
    exit 2
  fi
  echo "schemathesis: $m on port $port" >&2
  # Every check; examples, coverage (boundary values, wrong types, missing fields) and fuzzing.
  # positive_data_acceptance is replaced by its variant in schemathesis_hooks.py (token limits).
  # Run from the scratch folder: schemathesis writes its .schemathesis/ cache into the working directory.
  if ! (cd "$work" && SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH="$tools" "$VENV/bin/st" --no-color run \
      "http://127.0.0.1:$port/api-doc/openapi.json" --checks all --exclude-checks positive_data_acceptance \
      --phases examples,coverage,fuzzing --max-examples "$EXAMPLES" --seed 1 --workers 1 \
      >"$work/st.log" 2>&1); then
    echo "schemathesis: FAILED for $m" >&2
    cut -c1-2000 "$work/st.log" >&2
    failed=1
  else
    grep -E "generated" "$work/st.log" | tail -1 | sed "s|^|schemathesis: $(basename "$m"): |" >&2
  fi
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  pid=
done
exit $failed
