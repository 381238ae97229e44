#!/usr/bin/env bash
# Fast-backend tokenizer speed against the Rust tokenizers library, one thread, same texts, in one
# run: for each model folder, build/bin/tokenizer_bench --backend fast (single-thread encode) and
# tools/tokenizer_speed_ref.py (encode_batch with RAYON_NUM_THREADS=1), then the ratio of MB/s per
# CPU-second. Run from the source tree, under the CPU lock on a shared machine:
#   PY=/path/to/venv/bin/python bench/tokenizer_vs_rust.sh [MB] [MODEL_DIR...]
# PY must have `tokenizers` (default: python3). MB defaults to 5; models default to the
# bert-base-uncased, roberta-base and unigram-xlmr folders of tests/data/vocabs.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3}
BENCH=${BENCH:-build/bin/tokenizer_bench}
mb=${1:-5}
shift || true
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(tests/data/vocabs/bert-base-uncased tests/data/vocabs/roberta-base tests/data/vocabs/unigram-xlmr)
ver=$("$PY" -c 'import tokenizers; print(tokenizers.__version__)')
echo "| tokenizer.json | bertcpp fast | tokenizers $ver (Rust) | ratio |"
echo "|---|---|---|---|"
# "per CPU-second: X MB/s, Y tokens/s" -> "X Y"
per_cpu() { sed -n 's/.*per CPU-second: \([0-9.]*\) MB\/s, \([0-9]*\) tokens\/s.*/\1 \2/p' | head -1; }
tokens_of() { sed -n 's/.*(\([0-9]*\) tokens,.*/\1/p' | head -1; }
for m in "${models[@]}"; do
  ours=$("$BENCH" --model "$m" --backend fast --mb "$mb" --threads 1 | grep 'single-thread encode')
  ref=$(RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false "$PY" tools/tokenizer_speed_ref.py --model "$m" --mb "$mb" | grep encode_batch)
  read -r omb otps <<<"$(per_cpu <<<"$ours")"
  read -r rmb rtps <<<"$(per_cpu <<<"$ref")"
  otok=$(tokens_of <<<"$ours")
  rtok=$(tokens_of <<<"$ref")
  same=$([ "$otok" = "$rtok" ] && echo "same $otok tokens" || echo "TOKEN COUNTS DIFFER: $otok vs $rtok")
  ratio=$(awk -v a="$omb" -v b="$rmb" 'BEGIN { printf "%.2f", a / b }')
  echo "| $(basename "$m") | $omb MB/s ($otps tokens/s) | $rmb MB/s ($rtps tokens/s) | ${ratio}× ($same) |"
done
