#!/usr/bin/env bash
# Creates the venv for the distributed-engine integrations (Ray Data, Spark, Dask) OUTSIDE the tree,
# from Debian's /usr/bin/python3 (the interpreter the bertcpp module is built for), and prints its python.
# Only tests/python/test_distributed_*.py use it; CI's default path does not run this script.
#
#   bash scripts/setup_scale.sh          # venv: ${BERTCPP_SCALE_VENV:-~/.cache/bertcpp/venv-scale}
#   PYTHONPATH=build/python "$(bash scripts/setup_scale.sh)" -m pytest tests/python -k distributed
#
# Spark also needs a Java runtime (Debian: openjdk-17-jre-headless).
set -euo pipefail
VENV=${BERTCPP_SCALE_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/bertcpp/venv-scale}
here=$(cd "$(dirname "$0")/.." && pwd)
case "$VENV" in
  "$here"/*) echo "setup_scale.sh: venv $VENV is inside the source tree; set BERTCPP_SCALE_VENV elsewhere" >&2; exit 2;;
esac
if ! command -v java >/dev/null 2>&1; then
  echo "setup_scale.sh: installing a Java runtime for Spark" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends openjdk-17-jre-headless >&2
fi
# --system-site-packages: numpy and pytest come from Debian, as for the rest of the Python tests.
[ -x "$VENV/bin/python" ] || /usr/bin/python3 -m venv --system-site-packages "$VENV"
# numpy<2: the module is built with Debian's pybind11 2.10, which predates NumPy 2's ABI; pandas 3 and
# pyarrow 22+ need NumPy 2, hence their caps.
"$VENV/bin/python" -m pip install -q --disable-pip-version-check \
  "numpy<2" "pandas<3" "pyarrow<22" "ray[data]" pyspark "dask[distributed,dataframe]" >&2
"$VENV/bin/python" -c "import ray.data, pyspark, dask.dataframe, distributed" >&2
echo "$VENV/bin/python"
