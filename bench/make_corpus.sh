#!/usr/bin/env bash
# Tokenizer-throughput corpus: /usr/share/common-licenses/* concatenated and repeated until the
# file holds at least 50 MB (override: MIN_MB=200 bench/make_corpus.sh [OUT]).
# Output: bench/out/corpus.txt (gitignored). Plain text, mostly English licence prose, UTF-8.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/out/corpus.txt}"
min_bytes=$(( ${MIN_MB:-50} * 1000 * 1000 ))
src=(/usr/share/common-licenses/*)
mkdir -p "$(dirname "$out")"
tmp="$out.tmp.$$"
# one copy of every licence file (regular files only; some entries are symlinks to others)
one="$tmp.one"
: > "$one"
for f in "${src[@]}"; do
  [ -f "$f" ] && { cat "$f"; printf '\n'; } >> "$one"
done
one_size=$(stat -c %s "$one")
if [ "$one_size" -eq 0 ]; then echo "make_corpus: /usr/share/common-licenses is empty" >&2; rm -f "$one"; exit 1; fi
: > "$tmp"
size=0
while [ "$size" -lt "$min_bytes" ]; do
  cat "$one" >> "$tmp"
  size=$(( size + one_size ))
done
rm -f "$one"
mv "$tmp" "$out"
echo "make_corpus: wrote $out ($(stat -c %s "$out") bytes, $(wc -l < "$out") lines, $(( size / one_size )) copies of ${#src[@]} licence files)"
