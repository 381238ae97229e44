#!/usr/bin/env bash
# Long-context benchmark, ModernBERT-base 128 → 8,192 tokens (see docs/benchmarks.md). By hand, not on CI.
#   bench/long/run.sh                 all lengths; chart + table into docs/
#   bench/long/run.sh --seqs 8192     one length (results accumulate in ~/.cache/bertcpp/longctx)
#   bench/long/run.sh --help          all options
set -euo pipefail
exec /work/venv/ref/bin/python "$(dirname "$0")/run.py" "$@"
