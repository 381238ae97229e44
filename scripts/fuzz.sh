#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang + ASan/UBSan into build-fuzz/ and runs each for
# a few seconds on a seed corpus from tests/data. Exits non-zero on any crash, leak, timeout or OOM.
# Usage: scripts/fuzz.sh [--seconds N] [TARGET...]   (default 5 s per target, every target)
# Findings are written to build-fuzz/findings/<target>/ (reproduce: build-fuzz/bin/<target> FILE).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER=5
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_PER=$2; shift 2 ;;
    -h|--help) sed -n 2,5p "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
command -v clang++ >/dev/null || { echo "fuzz: clang++ not found (scripts/setup.sh installs it)" >&2; exit 2; }
export CC=clang CXX=clang++ BUILD_DIR=build-fuzz BUILD_TYPE=RelWithDebInfo
cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBERTCPP_FUZZ=ON -DBERTCPP_SANITIZE=ON \
  -DBERTCPP_BUILD_TESTS=OFF -DBERTCPP_BUILD_PYTHON=OFF -DBERTCPP_BUILD_BENCH=OFF >/dev/null
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$(cd .. && pwd)} CCACHE_NOHASHDIR=1
cmake --build build-fuzz --target fuzzers -j"$(nproc)"
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_checkpoint_safetensors fuzz_checkpoint_torch fuzz_config fuzz_tokenizer_json fuzz_tokenizer_files fuzz_vocab fuzz_encode fuzz_server_request fuzz_sentencepiece_model)

seeds() {  # seed files per target, from the test data
  case "$1" in
    fuzz_checkpoint_safetensors) ls tests/data/models/*/model.safetensors ;;
    fuzz_checkpoint_torch) ls tests/data/models/*/pytorch_model.bin ;;
    fuzz_config) ls tests/data/models/*/config.json tests/data/vocabs/*/config.json ;;
    fuzz_tokenizer_json) ls tests/data/models/tiny-{roberta,distilbert,mpnet}/tokenizer.json ;;
    fuzz_tokenizer_files) ls tests/data/models/*/tokenizer_config.json ;;
    fuzz_vocab) ls tests/data/models/tiny-distilbert/vocab.txt tests/data/models/tiny-mpnet/vocab.txt ;;
    fuzz_encode) ls tests/data/tokenizer/*.json ;;
    fuzz_server_request) ls fuzz/seeds/server_request/*.http ;;
    fuzz_sentencepiece_model) ls tests/data/sentencepiece/*/*.model ;;
  esac
}
max_len() {  # encode (and the server's forward passes) are linear but slow under ASan: shorter inputs, more of them
  case "$1" in fuzz_encode|fuzz_vocab) echo 4096 ;; fuzz_server_request) echo 8192 ;; fuzz_sentencepiece_model) echo 524288 ;; *) echo 65536 ;; esac
}
dict() {
  case "$1" in
    fuzz_checkpoint_torch) echo fuzz/pickle.dict ;;
    fuzz_encode|fuzz_vocab|fuzz_sentencepiece_model) echo "" ;;
    fuzz_server_request) cat fuzz/http.dict fuzz/json.dict > build-fuzz/server_request.dict; echo build-fuzz/server_request.dict ;;
    *) echo fuzz/json.dict ;;
  esac
}

failed=0
for t in "${targets[@]}"; do
  corpus=build-fuzz/corpus/$t findings=build-fuzz/findings/$t
  mkdir -p "$corpus" "$findings"
  for s in $(seeds "$t"); do cp -f "$s" "$corpus/seed-$(echo "$s" | tr '/' '_')"; done
  d=$(dict "$t")
  echo "fuzz: $t for ${SECONDS_PER}s" >&2
  if ! ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      build-fuzz/bin/"$t" -max_total_time="$SECONDS_PER" -timeout=10 -rss_limit_mb=2048 -max_len="$(max_len "$t")" \
      -print_final_stats=1 -artifact_prefix="$findings/" ${d:+-dict=$d} "$corpus" > "build-fuzz/$t.log" 2>&1; then
    echo "fuzz: $t FAILED (see build-fuzz/$t.log and $findings/)" >&2
    tail -30 "build-fuzz/$t.log" >&2
    failed=1
  else
    grep -E "stat::number_of_executed_units" "build-fuzz/$t.log" | sed "s/^/fuzz: $t /" >&2 || true
  fi
done
exit $failed
