"""The real-weight benchmark's own logic (bench/make_sentences.py, bench/real.py): the corpus
filter, the agreement numbers that decide whether a peer is timed, the e2e summary (median of
rounds, cosine gate) and corpus subset. No peer is run here."""
import importlib.util
import os
import sys

import numpy as np
import pytest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


make_sentences = _load("make_sentences", os.path.join(ROOT, "bench", "make_sentences.py"))
# bench/ imports `run` and tools/safetensors_np by plain name; tests/python has its own
# safetensors_np, so load the bench modules against tools' one and put the old entries back.
_saved = {k: sys.modules.pop(k, None) for k in ("safetensors_np", "run")}
_path = list(sys.path)
sys.path[:0] = [os.path.join(ROOT, "bench"), os.path.join(ROOT, "tools")]
try:
    safetensors_np = _load("safetensors_np", os.path.join(ROOT, "tools", "safetensors_np.py"))
    sys.modules["safetensors_np"] = safetensors_np
    real = _load("bench_real", os.path.join(ROOT, "bench", "real.py"))
finally:
    sys.path[:] = _path
    for k, v in _saved.items():
        sys.modules.pop(k, None)
        if v is not None:
            sys.modules[k] = v


def test_sentences_split_filter_and_bullets(tmp_path):
    f = tmp_path / "copyright"
    f.write_text(
        "Files: *\n"
        "Copyright: 2001, 2002, 2003, 2004 Jane Roe <jane@example.org>\n"
        "License: MIT\n"
        " This first sentence is glued to the field lines above and dropped with them.\n"
        " .\n"
        " Permission is hereby granted, free of charge, to any person obtaining a copy\n"
        " of this software. The above copyright notice shall be included in all copies.\n"
        " .\n"
        " Short one.\n\n"
        "  * Fix the build on arm64 with the new compiler\n"  # no full stop: its own block, dropped
        "  * Update the watch file to the new upstream location.\n",
        encoding="utf-8")
    got = list(make_sentences.sentences([str(f)]))
    assert got == [
        "Permission is hereby granted, free of charge, to any person obtaining a copy of this software.",
        "The above copyright notice shall be included in all copies.",
        "Update the watch file to the new upstream location.",
    ]


def test_sentences_gzip_and_non_utf8_skipped(tmp_path):
    import gzip
    g = tmp_path / "changelog.Debian.gz"
    with gzip.open(g, "wt", encoding="utf-8") as f:
        f.write("  * Rebuild against the new library version in unstable.\n")
    bad = tmp_path / "README"
    bad.write_bytes(b"This sentence has a Latin-1 byte \xe9 in the middle of it.\n")
    assert list(make_sentences.sentences([str(g), str(bad)])) == [
        "Rebuild against the new library version in unstable."]


def test_main_dedupes_and_fails_when_short(tmp_path, monkeypatch, capsys):
    lic = tmp_path / "lic"
    lic.write_text("The same sentence appears here twice in the file.\n\n"
                   "The same sentence appears here twice in the file.\n\n"
                   "Another sentence that is long enough to keep.\n", encoding="utf-8")
    monkeypatch.setattr(make_sentences.glob, "glob",
                        lambda pat, recursive=False: [str(lic)] if "common-licenses" in pat else [])
    out = tmp_path / "s.txt"
    assert make_sentences.main(["--n", "2", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8").splitlines() == [
        "The same sentence appears here twice in the file.",
        "Another sentence that is long enough to keep."]
    assert make_sentences.main(["--n", "3", "--out", str(out)]) == 1
    assert "only 2 distinct sentences" in capsys.readouterr().err


def _write(path, h):
    safetensors_np.write(str(path), {"last_hidden_state": h.astype(np.float32)})


def test_compare_ignores_padding_and_measures_real_tokens(tmp_path):
    rng = np.random.default_rng(0)
    ref = rng.normal(size=(2, 4, 8)).astype(np.float32)
    mask = np.array([[1, 1, 1, 1], [1, 1, 0, 0]])
    _write(tmp_path / "ref.safetensors", ref)
    got = ref.copy()
    got[1, 2:] += 100.0  # padding positions: must not count
    _write(tmp_path / "pad.safetensors", got)
    c = real.compare(str(tmp_path / "ref.safetensors"), str(tmp_path / "pad.safetensors"), mask)
    assert c["max_abs_diff"] == 0.0
    assert c["min_cos_pooled"] == pytest.approx(1.0, abs=1e-6)
    got = ref.copy()
    got[0, 1, 3] += 0.5  # a real token
    _write(tmp_path / "tok.safetensors", got)
    c = real.compare(str(tmp_path / "ref.safetensors"), str(tmp_path / "tok.safetensors"), mask)
    assert c["max_abs_diff"] == pytest.approx(0.5, abs=1e-6)
    assert c["min_cos_token"] < 1.0 - 1e-4
    assert c["min_cos_pooled"] < 1.0


def test_agreement_gate_per_precision():
    assert real.precision("ort-opt-fp32") == "fp32" and real.precision("bertcpp-f32") == "fp32"
    assert real.precision("torch-bf16") == "bf16"
    assert real.precision("ort-int8pc") == "int8" and real.precision("fe-ov-int8") == "int8"
    assert real.agrees("ov-fp32", {"max_abs_diff": 9e-4, "min_cos_pooled": 1.0})
    assert not real.agrees("ov-fp32", {"max_abs_diff": 2e-3, "min_cos_pooled": 1.0})
    assert real.agrees("ov-int8", {"max_abs_diff": 0.5, "min_cos_pooled": 0.95})
    assert not real.agrees("ov-int8", {"max_abs_diff": 0.5, "min_cos_pooled": 0.5})


def test_e2e_summary_medians_and_cosine_gate(tmp_path):
    ref = np.eye(4, 8, dtype=np.float32) + 0.1
    np.save(tmp_path / "e2e-st-torch-fp32.npy", ref)
    near = ref.copy()
    near[0, 1] += 1e-3  # cosine ~0.99999: too far for fp32 (0.9999 is the rule), fine for int8
    np.save(tmp_path / "e2e-st-onnx-fp32.npy", near * 1.0 + np.array([0, 0, 0, 0, 0, 0, 0, 0.05]))
    np.save(tmp_path / "e2e-fe-ov-int8.npy", near)
    np.save(tmp_path / "e2e-st-openvino-fp32.npy", ref * 2.0)  # same direction: cosine 1
    res = {"n": 100, "commands": {n: n for n in ("st-torch-fp32", "st-onnx-fp32", "fe-ov-int8",
                                                 "st-openvino-fp32")},
           "samples": {"st-torch-fp32": [{"round": 0, "wall_s": 10.0, "peak_rss_mb": 5}],
                       "st-onnx-fp32": [{"round": r, "wall_s": w, "peak_rss_mb": m}
                                        for r, w, m in ((0, 4.0, 7), (1, 2.0, 9), (2, 5.0, 8))],
                       "fe-ov-int8": [{"round": 0, "wall_s": 1.0, "peak_rss_mb": 1}],
                       "st-openvino-fp32": [{"round": 0, "wall_s": 3.0, "peak_rss_mb": 1, "encode_s": 2.5}],
                       "st-onnx-int8": []}}
    real.e2e_summary(res, str(tmp_path))
    r = res["runs"]
    assert "st-onnx-int8" not in r  # never ran
    assert r["st-onnx-fp32"]["wall_s"] == 4.0 and r["st-onnx-fp32"]["sent_per_s"] == 25.0  # median of rounds
    assert r["st-onnx-fp32"]["peak_rss_mb"] == 9 and r["st-onnx-fp32"]["walls_s"] == [4.0, 2.0, 5.0]
    assert not r["st-onnx-fp32"]["agrees"] and r["st-onnx-fp32"]["min_cos"] < real.E2E_FP32_COS
    assert r["fe-ov-int8"]["agrees"] and r["fe-ov-int8"]["min_cos"] < 1.0
    assert r["st-openvino-fp32"]["agrees"] and r["st-openvino-fp32"]["encode_s"] == 2.5
    assert r["st-torch-fp32"]["min_cos"] == pytest.approx(1.0)


def test_e2e_subset_every_kth_sentence(tmp_path, monkeypatch):
    src = tmp_path / "sentences.txt"
    src.write_text("".join(f"s{i}\n" for i in range(100)), encoding="utf-8")
    monkeypatch.setattr(real, "SENTENCES", str(src))

    class A:
        subset = 25
    path = real.e2e_corpus(A(), str(tmp_path))
    assert open(path, encoding="utf-8").read().split() == [f"s{i}" for i in range(0, 100, 4)]
    A.subset = 0
    assert real.e2e_corpus(A(), str(tmp_path)) == str(src)
