#!/usr/bin/env python3
"""Real-weight peers for bench/real.py: one engine per process, JSON lines on stdin/stdout.

Run with the peers venv (scripts/setup_peers.sh), e.g.
    ~/.cache/bertcpp/venv-peers/bin/python bench/peers/real_peers.py serve --engine ort-int8 \
        --model ~/.cache/bertcpp/real-models/models/all-MiniLM-L6-v2 --work ~/.cache/bertcpp/bench/minilm
Engines (all load the same Hugging Face folder; converted models are cached in --work):
  torch-fp32, torch-bf16   transformers AutoModel (PyTorch 2.x), bf16 = torch.autocast("cpu", bfloat16)
  ort-fp32, ort-int8       onnxruntime on the torch.onnx.export graph (opset 17), int8 = quantize_dynamic
  ort-int8pc               the same with per_channel=True (one weight scale per output channel)
  ort-opt-fp32, ort-opt-int8  the same after onnxruntime.transformers.optimizer (model_type bert:
                           Attention/SkipLayerNorm/BiasGelu fusions), int8 quantized after fusing
  ov-fp32, ov-int8         OpenVINO on the same ONNX; int8 = nncf.quantize (ModelType.TRANSFORMER,
                           calibration on --calib real token ids)
  ct2-int8                 CTranslate2 Encoder from its TransformersConverter (quantization int8)
  llama-f32, llama-f16, llama-q8_0  llama.cpp (llama-cpp-python's C API) on a GGUF made by llama.cpp's own
                           convert_hf_to_gguf.py (--outtype f32/f16/q8_0; $LLAMA_CPP_CONVERT, set up by
                           WITH_LLAMA=1 scripts/setup_peers.sh); pooling NONE: each token's output is read back
Requests: {"op": "forward", "inputs": F, "out": OUT}  -> writes last_hidden_state (f32)
          {"op": "bench", "inputs": F, "iters": K, "warmup": W} -> {"median_ms", "min_ms", "times_ms"}
Input files: safetensors with I64 input_ids, attention_mask, token_type_ids [batch, seq].
"""
from __future__ import annotations

import argparse
import inspect
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
import safetensors_np  # noqa: E402
import worker  # noqa: E402  (bench/peers/worker.py, beside this file)

ONNX_OPSET = 17


def load_inputs(path):
    t = safetensors_np.read(path)
    ids = t["input_ids"].astype(np.int64)
    mask = t.get("attention_mask", np.ones_like(ids)).astype(np.int64)
    tt = t.get("token_type_ids", np.zeros_like(ids)).astype(np.int64)
    return ids, mask, tt


def export_onnx(model_dir, out):
    """fp32 ONNX of transformers' BertModel (last_hidden_state only), dynamic batch/seq."""
    if os.path.exists(out):
        return out
    import torch
    from transformers import AutoModel
    m = AutoModel.from_pretrained(model_dir, attn_implementation="eager").eval()
    ids = torch.randint(1000, 2000, (2, 16), dtype=torch.long)
    names = ["input_ids", "attention_mask"] + (["token_type_ids"] if takes_token_types(m) else [])
    args = (ids, torch.ones_like(ids), torch.zeros_like(ids))[:len(names)]

    class LastHidden(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, *xs):
            return self.inner(**dict(zip(names, xs))).last_hidden_state

    dyn = {k: {0: "batch", 1: "seq"} for k in names + ["last_hidden_state"]}
    tmp = out + ".tmp.onnx"
    with torch.no_grad():
        torch.onnx.export(LastHidden(m), args, tmp, opset_version=ONNX_OPSET, dynamo=False,
                          input_names=names,
                          output_names=["last_hidden_state"], dynamic_axes=dyn,
                          do_constant_folding=True)
    os.replace(tmp, out)
    return out


def takes_token_types(model):
    return "token_type_ids" in inspect.signature(model.forward).parameters


def ort_optimize(src, out, cfg):
    if not os.path.exists(out):
        from onnxruntime.transformers import optimizer
        opt = optimizer.optimize_model(src, model_type="bert",  # its BERT fusions also match MPNet num_heads=cfg["num_attention_heads"],
                                       hidden_size=cfg["hidden_size"], opt_level=1)
        opt.save_model_to_file(out)
    return out


def ort_quantize(src, out, per_channel=False):
    if not os.path.exists(out):
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic
        # DefaultTensorType: shape inference cannot type the fused graph's com.microsoft outputs
        quantize_dynamic(src, out, weight_type=QuantType.QInt8, per_channel=per_channel,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    return out


class Torch:
    def __init__(self, model_dir, threads, bf16):
        import torch
        from transformers import AutoModel
        torch.set_num_threads(threads)
        self.torch, self.bf16 = torch, bf16
        self.m = AutoModel.from_pretrained(model_dir).eval()
        self.tt = takes_token_types(self.m)
        self.version = f"torch {torch.__version__}, attn {self.m.config._attn_implementation}"

    def run(self, ids, mask, tt):
        t = self.torch
        with t.inference_mode():
            a = dict(input_ids=t.from_numpy(ids), attention_mask=t.from_numpy(mask))
            if self.tt:
                a["token_type_ids"] = t.from_numpy(tt)
            if self.bf16:
                with t.autocast("cpu", dtype=t.bfloat16):
                    y = self.m(**a).last_hidden_state
            else:
                y = self.m(**a).last_hidden_state
            return y.float().numpy()


class Ort:
    def __init__(self, path, threads):
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        self.names = {i.name for i in self.s.get_inputs()}
        self.version = f"onnxruntime {ort.__version__}, {os.path.basename(path)}"

    def run(self, ids, mask, tt):
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": tt}
        return self.s.run(None, {k: v for k, v in feed.items() if k in self.names})[0]


class OpenVino:
    def __init__(self, onnx_path, threads, int8, calib, work):
        import openvino as ov
        core = ov.Core()
        xml = os.path.join(work, "ov-int8.xml" if int8 else "ov-fp32.xml")
        if not os.path.exists(xml):
            model = core.read_model(onnx_path)
            if int8:
                import nncf
                ids, mask, tt = load_inputs(calib)
                names = {i.get_any_name() for i in model.inputs}
                data = [{k: v for k, v in (("input_ids", ids[i:i + 1]), ("attention_mask", mask[i:i + 1]),
                                           ("token_type_ids", tt[i:i + 1])) if k in names}
                        for i in range(ids.shape[0])]
                model = nncf.quantize(model, nncf.Dataset(data), model_type=nncf.ModelType.TRANSFORMER,
                                      subset_size=len(data))
            ov.save_model(model, xml, compress_to_fp16=False)
        cfg = {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY",
               "INFERENCE_PRECISION_HINT": "f32"}
        self.c = core.compile_model(core.read_model(xml), "CPU", cfg)
        self.req = self.c.create_infer_request()
        self.names = {i.get_any_name() for i in self.c.inputs}
        self.version = f"openvino {ov.__version__}"

    def run(self, ids, mask, tt):
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": tt}
        r = self.req.infer({k: v for k, v in feed.items() if k in self.names})
        return np.asarray(r[self.c.outputs[0]])


class CT2:
    def __init__(self, model_dir, threads, work):
        import ctranslate2
        out = os.path.join(work, "ct2-int8")
        if not os.path.exists(os.path.join(out, "model.bin")):
            from ctranslate2.converters import TransformersConverter
            TransformersConverter(model_dir).convert(out, quantization="int8", force=True)
        self.e = ctranslate2.Encoder(out, device="cpu", compute_type="int8", intra_threads=threads,
                                     inter_threads=1)
        with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
            self.tt = json.load(f).get("type_vocab_size", 0) > 0
        self.version = f"ctranslate2 {ctranslate2.__version__}"

    def run(self, ids, mask, tt):
        lens = mask.sum(1)
        toks = [ids[i, :lens[i]].tolist() for i in range(ids.shape[0])]
        tts = [tt[i, :lens[i]].tolist() for i in range(ids.shape[0])]
        out = self.e.forward_batch(toks, token_type_ids=tts) if self.tt else self.e.forward_batch(toks)
        h = np.array(out.last_hidden_state, dtype=np.float32)  # [b, max_len, hidden], padded
        full = np.zeros(ids.shape + (h.shape[-1],), dtype=np.float32)
        full[:, :h.shape[1]] = h
        return full


class LlamaCpp:
    """llama.cpp's own BERT graph, each row's real tokens (as CT2) as one sequence, embeddings on with pooling
    NONE so every token's output (= last_hidden_state) comes back."""

    def __init__(self, model_dir, threads, work, outtype):
        import llama_cpp as L
        gguf = os.path.join(work, f"model-{outtype}.gguf")
        if not os.path.exists(gguf):
            conv = os.environ.get("LLAMA_CPP_CONVERT", os.path.expanduser(
                "~/.cache/bertcpp/llama.cpp-convert/convert_hf_to_gguf.py"))
            if not os.path.exists(conv):
                raise RuntimeError(f"no convert_hf_to_gguf.py at {conv} (WITH_LLAMA=1 scripts/setup_peers.sh)")
            import subprocess
            subprocess.run([sys.executable, conv, model_dir, "--outfile", gguf + ".tmp", "--outtype", outtype],
                           check=True, stdout=sys.stderr)
            os.replace(gguf + ".tmp", gguf)
        self.L = L
        L.llama_backend_init()
        self.model = L.llama_model_load_from_file(gguf.encode(), L.llama_model_default_params())
        if not self.model:
            raise RuntimeError(f"llama.cpp could not load {gguf}")
        self.hidden = L.llama_model_n_embd(self.model)
        self.max_tokens, self.seq_ids_set = 512, 0
        cp = L.llama_context_default_params()
        cp.n_ctx = cp.n_batch = cp.n_ubatch = self.max_tokens
        cp.n_threads = cp.n_threads_batch = threads
        cp.embeddings = True
        cp.pooling_type = L.LLAMA_POOLING_TYPE_NONE
        if outtype == "f32":  # by default K/V are f16 and flash attention runs in f16: 4e-3 off torch
            cp.type_k = cp.type_v = L.GGML_TYPE_F32
            cp.flash_attn_type = L.LLAMA_FLASH_ATTN_TYPE_DISABLED
        self.ctx = L.llama_init_from_model(self.model, cp)
        if not self.ctx:
            raise RuntimeError("llama.cpp could not make a context")
        self.batch = L.llama_batch_init(self.max_tokens, 0, 1)
        self.version = f"llama.cpp (llama-cpp-python {L.__version__}), GGUF {outtype}"

    def run(self, ids, mask, tt):
        """One llama_decode per row: a packed batch is slower here (its attention spans every token of the
        batch under a mask: b32x128 f16 1.66 s packed vs ~1 s row by row)."""
        L, b = self.L, self.batch
        lens = mask.sum(1)
        if int(lens.max()) > self.max_tokens:
            raise RuntimeError(f"a row of {int(lens.max())} tokens is over the context ({self.max_tokens})")
        view = lambda ptr: np.ctypeslib.as_array(ptr, shape=(self.max_tokens,))  # noqa: E731
        full = np.zeros(ids.shape + (self.hidden,), dtype=np.float32)
        if self.seq_ids_set < self.max_tokens:  # seq_id is a pointer per token: all sequence 0, set once
            for i in range(self.max_tokens):
                b.seq_id[i][0] = 0
            self.seq_ids_set = self.max_tokens
        view(b.n_seq_id)[:] = 1
        view(b.logits)[:] = 1
        view(b.pos)[:] = np.arange(self.max_tokens)
        for r in range(ids.shape[0]):
            n = int(lens[r])
            view(b.token)[:n] = ids[r, :n]
            b.n_tokens = n
            L.llama_memory_clear(L.llama_get_memory(self.ctx), True)
            rc = L.llama_decode(self.ctx, b)
            if rc != 0:
                raise RuntimeError(f"llama_decode returned {rc}")
            full[r, :n] = np.ctypeslib.as_array(L.llama_get_embeddings(self.ctx), shape=(n, self.hidden))
        return full


def make_engine(name, model_dir, threads, work, calib):
    with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    os.makedirs(work, exist_ok=True)
    if name in ("torch-fp32", "torch-bf16"):
        return Torch(model_dir, threads, name == "torch-bf16")
    if name == "ct2-int8":
        return CT2(model_dir, threads, work)
    if name in ("llama-f32", "llama-f16", "llama-q8_0"):
        return LlamaCpp(model_dir, threads, work, name.split("-", 1)[1])
    onnx = export_onnx(model_dir, os.path.join(work, "model.onnx"))
    if name.startswith("ort-"):
        path = onnx
        if name.startswith("ort-opt-"):
            path = ort_optimize(onnx, os.path.join(work, "model-opt.onnx"), cfg)
        if name.endswith("-int8"):
            path = ort_quantize(path, path[:-5] + "-int8.onnx")
        elif name.endswith("-int8pc"):
            path = ort_quantize(path, path[:-5] + "-int8pc.onnx", per_channel=True)
        return Ort(path, threads)
    if name in ("ov-fp32", "ov-int8"):
        return OpenVino(onnx, threads, name == "ov-int8", calib, work)
    raise SystemExit(f"real_peers: unknown engine {name!r}")


def cmd_serve(a):
    # converters (nncf, the ORT optimizer) print to stdout: keep fd 1 for the JSON replies only
    sys.stdout.flush()
    json_fd = os.dup(1)
    os.dup2(2, 1)
    try:
        eng = make_engine(a.engine, a.model, a.threads, a.work, a.calib)
        err = None
    except Exception as e:  # the harness reports it and goes on without this peer
        err = f"{type(e).__name__}: {e}"
        print(f"real_peers: {a.engine}: {err}", file=sys.stderr, flush=True)
    sys.stdout.flush()
    os.dup2(json_fd, 1)
    os.close(json_fd)
    if err:
        print(json.dumps({"ready": False, "error": err}), flush=True)
        return 1
    print(json.dumps({"ready": True, "engine": a.engine, "version": eng.version}), flush=True)
    def forward(req, x):
        safetensors_np.write(req["out"], {"last_hidden_state": eng.run(*x)})
        return {"ok": True}

    def bench(req, x):
        return worker.summary(worker.time_calls(lambda: eng.run(*x), int(req.get("iters", 10)), int(req.get("warmup", 1))))

    return worker.serve(load_inputs, {"forward": forward, "bench": bench})


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("serve")
    p.add_argument("--engine", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--work", required=True, help="folder for converted models (outside the tree)")
    p.add_argument("--calib", help="safetensors of real token ids for int8 calibration (OpenVINO)")
    p.add_argument("--threads", type=int, default=2)
    p.set_defaults(fn=cmd_serve)
    a = ap.parse_args(argv)
    return a.fn(a)


if __name__ == "__main__":
    sys.exit(main())
