"""deploy/k8s manifests validate strictly against the Kubernetes schemas (deploy/validate.sh)."""
import os
import shutil
import subprocess

import pytest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
KUBECONFORM = shutil.which("kubeconform") or os.path.expanduser("~/go/bin/kubeconform")


@pytest.mark.skipif(not os.access(KUBECONFORM, os.X_OK),
                    reason="kubeconform not installed (go install github.com/yannh/kubeconform/cmd/kubeconform@latest)")
def test_k8s_manifests_validate():
    r = subprocess.run(["bash", os.path.join(ROOT, "deploy", "validate.sh")], capture_output=True, text=True,
                       env=dict(os.environ, KUBECONFORM=KUBECONFORM), timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Valid: 4, Invalid: 0, Errors: 0" in r.stdout, r.stdout
