#!/usr/bin/env python3
"""End-to-end embedding peers for bench/real.py e2e: text file in, float32 .npy out.

    ~/.cache/bertcpp/venv-peers/bin/python bench/peers/e2e_peers.py --engine st-torch-fp32 \
        --model DIR --input sentences.txt --out emb.npy [--threads 2] [--batch-size 32] [--work DIR]
Engines (what a user writes; every one tokenizes, runs the model, pools, normalizes as the model's
sentence-transformers modules say, and writes one row per input line):
  st-torch-fp32      SentenceTransformer(DIR).encode(texts, batch_size)
  st-torch-bf16      the same after model.to(torch.bfloat16)
  st-onnx-fp32       SentenceTransformer(--work/st-onnx, backend="onnx"): ONNX Runtime on the optimum
                     export that --prepare saves (SentenceTransformer(DIR, backend="onnx").save_pretrained)
  st-onnx-int8       the same on onnx/model_qint8_avx512_vnni.onnx, made by sentence-transformers'
                     export_dynamic_quantized_onnx_model(model, "avx512_vnni", ...)
  st-openvino-fp32   SentenceTransformer(--work/st-openvino, backend="openvino") (optimum-intel export;
                     ov_config INFERENCE_PRECISION_HINT f32, as fe-ov-*)
  st-openvino-bf16   the same fp32 model without the hint: OpenVINO's CPU default, bf16 on a CPU with
                     AVX-512 BF16 or AMX
  st-openvino-int8   the same on openvino/openvino_model_qint8_quantized.xml: sentence-transformers'
                     export_static_quantized_openvino_model recipe (OVQuantizationConfig(), 300 samples
                     padded to 384) with the calibration sentences taken from --input (every 67th line)
                     instead of the glue/sst2 download it defaults to
                     (st-onnx-* / st-openvino-* need optimum: the venv WITH_ST_BACKENDS=1
                     scripts/setup_peers.sh makes, ~/.cache/bertcpp/venv-st4)
  fe-ort-fp32        fastembed-style: tokenizers (tokenizer.json, padding to the batch's longest,
  fe-ort-int8        truncation at max_seq_length) + onnxruntime on --work/model.onnx (or its
  fe-ort-int8pc      quantize_dynamic int8, per-tensor / per-channel), mean pooling + L2 in numpy,
                     batches in input order
  fe-ov-fp32         the same pipeline on OpenVINO (--work/ov-fp32.xml, ov-int8.xml: bench/real.py
  fe-ov-int8         kernel makes them; int8 = NNCF)
Prints one JSON line: {"engine", "n", "load_s", "encode_s", "versions"}. --prepare makes the engine's
converted model in --work if missing (untimed; nothing is embedded) and exits.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np


ST_FILES = {"st-onnx-fp32": ("st-onnx", "onnx", "model.onnx"),
            "st-onnx-int8": ("st-onnx", "onnx", "model_qint8_avx512_vnni.onnx"),
            "st-openvino-fp32": ("st-openvino", "openvino", "openvino_model.xml"),
            "st-openvino-bf16": ("st-openvino", "openvino", "openvino_model.xml"),
            "st-openvino-int8": ("st-openvino", "openvino", "openvino_model_qint8_quantized.xml")}


def st_backend_kwargs(a, engine):
    """backend= and model_kwargs for a saved st-onnx / st-openvino folder."""
    _, backend, name = ST_FILES[engine]
    if backend == "onnx":
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = a.threads
        so.inter_op_num_threads = 1
        return {"backend": "onnx", "model_kwargs": {"file_name": name, "session_options": so,
                                                     "provider": "CPUExecutionProvider"}}
    cfg = {"INFERENCE_NUM_THREADS": a.threads, "PERFORMANCE_HINT": "LATENCY"}
    if engine != "st-openvino-bf16":  # bf16: OpenVINO's own default precision on a CPU with AVX-512 BF16
        cfg["INFERENCE_PRECISION_HINT"] = "f32"
    return {"backend": "openvino", "model_kwargs": {"file_name": name, "ov_config": cfg}}


def st_prepare(a, texts):
    """Exports (fp32) and quantizes (int8) with sentence-transformers' own functions, once, into --work."""
    from sentence_transformers import SentenceTransformer
    folder, backend, name = ST_FILES[a.engine]
    out = os.path.join(a.work, folder)
    if os.path.exists(os.path.join(out, backend, name)):
        return
    fp32 = os.path.join(out, backend, ST_FILES[f"st-{backend}-fp32"][2])
    if not os.path.exists(fp32):
        SentenceTransformer(a.model, device="cpu", backend=backend).save_pretrained(out)
    if not a.engine.endswith("int8"):
        return
    m = SentenceTransformer(out, device="cpu", backend=backend,
                            model_kwargs={"file_name": ST_FILES[f"st-{backend}-fp32"][2]})
    if backend == "onnx":
        from sentence_transformers import export_dynamic_quantized_onnx_model
        export_dynamic_quantized_onnx_model(m, "avx512_vnni", out)
        return
    # export_static_quantized_openvino_model with its dataset step replaced by local sentences: the
    # same quantizer, config, preprocessing (padding to 384) and saving (ST's save_or_push_to_hub_model)
    import nncf
    from optimum.intel.openvino import OVConfig, OVQuantizationConfig, OVQuantizer
    from sentence_transformers.backend.utils import save_or_push_to_hub_model
    qc = OVQuantizationConfig()
    picks = texts[::67][:qc.num_samples or 300]
    enc = m.tokenizer(picks, padding="max_length", max_length=384, truncation=True, return_tensors="np")
    names = {i.get_any_name() for i in m.transformers_model.model.inputs}
    data = [{k: v[i:i + 1].astype(np.int64) for k, v in enc.items() if k in names} for i in range(len(picks))]
    quantizer = OVQuantizer.from_pretrained(m.transformers_model)
    save_or_push_to_hub_model(
        export_function=lambda d: quantizer.quantize(nncf.Dataset(data), save_directory=d,
                                                     ov_config=OVConfig(quantization_config=qc)),
        export_function_name="export_static_quantized_openvino_model", config=qc,
        model_name_or_path=out, push_to_hub=False, file_suffix="qint8_quantized", backend="openvino",
        model=m)


def st_engine(a, texts):
    import torch
    from sentence_transformers import SentenceTransformer
    torch.set_num_threads(a.threads)
    t0 = time.perf_counter()
    if a.engine in ST_FILES:
        path = os.path.join(a.work, ST_FILES[a.engine][0])
        if not os.path.exists(os.path.join(path, *ST_FILES[a.engine][1:])):
            raise SystemExit(f"e2e_peers: {os.path.join(path, *ST_FILES[a.engine][1:])} missing "
                             f"(e2e_peers.py --prepare / bench/real.py e2e --prepare makes it)")
        m = SentenceTransformer(path, device="cpu", **st_backend_kwargs(a, a.engine))
    else:
        m = SentenceTransformer(a.model, device="cpu")
    if a.engine == "st-torch-bf16":
        m = m.to(torch.bfloat16)
    load = time.perf_counter() - t0
    t0 = time.perf_counter()
    e = m.encode(texts, batch_size=a.batch_size, convert_to_numpy=False, convert_to_tensor=True)
    e = e.float().cpu().numpy()
    enc = time.perf_counter() - t0
    import sentence_transformers
    from importlib.metadata import version
    ver = f"sentence-transformers {sentence_transformers.__version__}, torch {torch.__version__}"
    if a.engine in ST_FILES:
        ver += f", transformers {version('transformers')}"
        if "onnx" in a.engine:
            ver += f", optimum-onnx {version('optimum-onnx')}, onnxruntime {version('onnxruntime')}"
        else:
            try:
                prec = m.transformers_model.request.get_property("INFERENCE_PRECISION_HINT")
            except Exception as e:  # noqa: BLE001  (only reported)
                prec = f"? ({type(e).__name__})"
            ver += f", optimum-intel {version('optimum-intel')}, openvino {version('openvino')}, precision {prec}"
    return e, load, enc, ver


FE_FILES = {"fe-ort-fp32": "model.onnx", "fe-ort-int8": "model-int8.onnx",
            "fe-ort-int8pc": "model-int8pc.onnx", "fe-ov-fp32": "ov-fp32.xml", "fe-ov-int8": "ov-int8.xml"}


def fe_engine(a, texts):
    import onnxruntime as ort
    from tokenizers import Tokenizer
    t0 = time.perf_counter()
    with open(os.path.join(a.model, "sentence_bert_config.json"), encoding="utf-8") as f:
        max_len = json.load(f).get("max_seq_length", 512)
    tok = Tokenizer.from_file(os.path.join(a.model, "tokenizer.json"))
    tok.enable_truncation(max_len)
    pad = next((i for i in (tok.token_to_id("[PAD]"), tok.token_to_id("<pad>")) if i is not None), 0)
    tok.enable_padding(pad_id=pad)
    path = os.path.join(a.work, FE_FILES[a.engine])
    if not os.path.exists(path):
        raise SystemExit(f"e2e_peers: {path} missing (bench/real.py kernel makes it)")
    if a.engine.startswith("fe-ov-"):
        import openvino as ov
        core = ov.Core()
        c = core.compile_model(core.read_model(path), "CPU", {
            "INFERENCE_NUM_THREADS": a.threads, "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_PRECISION_HINT": "f32"})
        req = c.create_infer_request()
        names = {i.get_any_name() for i in c.inputs}

        def run(feed):
            return np.asarray(req.infer(feed)[c.outputs[0]])
        ver = f"openvino {ov.__version__}"
    else:
        so = ort.SessionOptions()
        so.intra_op_num_threads = a.threads
        so.inter_op_num_threads = 1
        s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        names = {i.name for i in s.get_inputs()}

        def run(feed):
            return s.run(None, feed)[0]
        ver = f"onnxruntime {ort.__version__}"
    load = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = []
    for i in range(0, len(texts), a.batch_size):
        enc = tok.encode_batch(texts[i:i + a.batch_size])
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        h = run({k: v for k, v in feed.items() if k in names})
        m = mask[:, :, None].astype(np.float32)
        e = (h * m).sum(1) / np.maximum(m.sum(1), 1e-9)
        out.append(e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12))
    e = np.concatenate(out).astype(np.float32)
    enc_s = time.perf_counter() - t0
    import tokenizers
    return e, load, enc_s, f"{ver}, tokenizers {tokenizers.__version__}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--engine", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--work", default="")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--prepare", action="store_true", help="make the engine's converted model, then exit")
    a = ap.parse_args(argv)
    with open(a.input, encoding="utf-8") as f:
        texts = f.read().split("\n")
    if texts and texts[-1] == "":
        texts.pop()
    if a.prepare:
        if a.engine in ST_FILES:
            st_prepare(a, texts)
        return 0
    if a.engine.startswith("st-"):
        e, load, enc, ver = st_engine(a, texts)
    elif a.engine.startswith("fe-"):
        e, load, enc, ver = fe_engine(a, texts)
    else:
        raise SystemExit(f"e2e_peers: unknown engine {a.engine!r}")
    np.save(a.out, e)
    print(json.dumps({"engine": a.engine, "n": len(texts), "load_s": load, "encode_s": enc,
                      "versions": ver}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
