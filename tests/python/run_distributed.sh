#!/usr/bin/env bash
# Runs the Ray/Spark/Dask cluster tests with the engines' venv (scripts/setup_scale.sh); CTest skip (77) without it.
py="${BERTCPP_SCALE_VENV:-$HOME/.cache/bertcpp/venv-scale}/bin/python"
if [ ! -x "$py" ]; then
  echo "skipped: no engines venv at $py (bash scripts/setup_scale.sh creates it)"
  exit 77
fi
exec "$py" -m pytest -q "$(dirname "$0")/test_distributed.py"
