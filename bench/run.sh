#!/usr/bin/env bash
# One command for the bertcpp benchmark (see docs/benchmarks.md). Run by hand, not on CI.
#   bench/run.sh           full run (random bert-base, all shapes, charts + table into docs/)
#   bench/run.sh --quick   smoke run (small model, tiny shapes, a few iterations)
#   bench/run.sh --help    all options
set -euo pipefail
exec /usr/bin/python3 "$(dirname "$0")/run.py" "$@"
