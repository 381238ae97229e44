"""The real-weight benchmark's own logic (bench/make_sentences.py, bench/real.py): the corpus
filter and the agreement numbers that decide whether a peer is timed. No peer is run here."""
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
