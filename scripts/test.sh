#!/usr/bin/env bash
# The test command: install dependencies, build, run every test (GoogleTest via CTest, and pytest
# for the Python module). Usage: scripts/test.sh [--sanitize]
#   --sanitize  build into build-asan/ with AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "${1:-}" = "--sanitize" ]; then
  export BUILD_DIR=build-asan BUILD_TYPE=RelWithDebInfo
  # quarantine 64 MB (default 256): freed blocks ASan keeps count as RSS, and ServerHardening's
  # header flood frees enough on a fast CPU to pass its 200 MB peak-RSS bound on quarantine alone.
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:quarantine_size_mb=64}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  # The Python module is not loadable under ASan without preloading the runtime; its tests run
  # in the normal build.
  bash scripts/build.sh -DBERTCPP_SANITIZE=ON -DBERTCPP_BUILD_PYTHON=OFF -DBERTCPP_BUILD_BENCH=OFF
else
  bash scripts/build.sh
fi
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j"$(nproc)"
