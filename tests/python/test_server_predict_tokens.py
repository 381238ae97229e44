"""`bertcpp serve`'s POST /predict_tokens (a route beyond TEI) against transformers'
token-classification pipeline: the ner_* cases of tests/data/pipelines/expected.json (written by
tools/make_pipeline_expected.py on the same head_folders checkpoint), with every aggregation_strategy."""
import json
import os
import re
import subprocess
import urllib.error
import urllib.request

import pytest

import head_folders
from conftest import DATA, MODELS
from test_pipelines_ref import _same

HERE = os.path.dirname(os.path.abspath(__file__))
CLI = os.environ.get("BERTCPP_CLI") or os.path.join(HERE, "..", "..", "build", "bin", "bertcpp")
with open(os.path.join(DATA, "pipelines", "expected.json"), encoding="utf-8") as _f:
    CASES = json.load(_f)["cases"]
pytestmark = pytest.mark.skipif(not os.path.exists(CLI), reason=f"no bertcpp CLI at {CLI}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    model = head_folders.make(MODELS, str(tmp_path_factory.mktemp("ner") / "ner"), "token_classification")
    proc = subprocess.Popen([CLI, "serve", "--model", model, "--port", "0", "--threads", "1", "--http-threads", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    port = None
    for line in proc.stdout:
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if m:
            port = int(m.group(1))
            break
    assert port, "bertcpp serve did not start"
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=30)


def post(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


@pytest.mark.parametrize("case", [c for c in CASES if c.startswith("ner_")])
def test_predict_tokens_equals_transformers_pipeline(server, case):
    c = CASES[case]
    body = {"inputs": c["args"][0]}
    body.update(c["kwargs"])
    status, got = post(server + "/predict_tokens", body)
    assert status == 200, got
    _same(got, c["output"], case)


def test_predict_tokens_batch_and_errors(server):
    text = CASES["ner_none"]["args"][0]
    status, got = post(server + "/predict_tokens", {"inputs": [text, "New York"]})
    assert status == 200
    _same(got[0], CASES["ner_none"]["output"])
    assert len(got) == 2
    status, err = post(server + "/predict_tokens", {"inputs": text, "aggregation_strategy": "mean"})
    assert status == 422 and err["error_type"] == "Validation" and "aggregation_strategy" in err["error"]
    status, got = post(server + "/predict_tokens", {"inputs": [text], "aggregation_strategy": "simple"})
    assert status == 200
    _same(got[0], CASES["ner_simple"]["output"])
    status, err = post(server + "/predict_tokens", {"inputs": ""})
    assert status == 400 and err["error_type"] == "Empty"
    status, err = post(server + "/embed_sparse", {"inputs": text})
    assert status == 424
