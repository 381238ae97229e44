"""Recomputes every golden made by tools/make_family_goldens.py from the committed folders and prints max |Δ|.

Run with the reference venv: /work/venv/ref/bin/python tools/check_family_goldens.py [FOLDER_NAME ...]
For each folder: the tokenizer (AutoTokenizer on the folder, and again from only its vocab files: vocab.json +
merges.txt, sentencepiece.bpe.model or vocab.txt) must give the stored ids exactly; the model (transformers,
fp32, eager attention, one thread) run on the stored ids must give every stored tensor; a sentence-transformers
folder's encode() must give the stored sentence embeddings. Exit status 1 if any check fails.
"""
import json
import os
import shutil
import sys
import tempfile

import numpy as np
import torch

torch.set_num_threads(1)
import safetensors.numpy  # noqa: E402
import transformers  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(ROOT, "tests", "data", "models")
TOL = 1e-5  # same reference, same inputs: anything above is a changed folder or a changed reference
VOCAB_FILES = {"RobertaTokenizer": ("vocab.json", "merges.txt"), "XLMRobertaTokenizer": ("sentencepiece.bpe.model",),
               "DistilBertTokenizer": ("vocab.txt",), "ElectraTokenizer": ("vocab.txt",),
               "BertTokenizer": ("vocab.txt",), "MPNetTokenizer": ("vocab.txt",)}
failures = []


def fail(msg):
    failures.append(msg)
    print("  FAIL", msg)


def family_folders():
    for name in sorted(os.listdir(MODELS)):
        p = os.path.join(MODELS, name, "expected.json")
        if os.path.exists(p):
            with open(p, encoding="utf-8") as f:
                if json.load(f)["generator"].startswith("tools/make_family_goldens.py"):
                    yield name


def case_inputs(texts, case):
    if case == "pair":
        a, b = texts["pair"][0]
        return ([a], [b])
    return (texts[case],)


def check_ids(tok, label, texts, exp, max_len, cases):
    for case in cases:
        kw = {"return_tensors": "np"}
        if case != "single":
            kw.update(truncation=True, max_length=max_len)
        if case == "batch":
            kw["padding"] = True
        enc = tok(*case_inputs(texts, case), **kw)
        for k in ("input_ids", "attention_mask", "token_type_ids"):
            key = f"{case}.{k}"
            if key not in exp:
                continue
            got = enc.get(k)
            if got is None and k == "token_type_ids":
                got = np.zeros_like(enc["input_ids"])
            if got is None or got.shape != exp[key].shape or not np.array_equal(got.astype(np.int64), exp[key]):
                fail(f"{label}: {key} differs")


def vocab_only_tokenizer(d, tok_class, tmp):
    files = VOCAB_FILES.get(tok_class)
    if not files:
        return None
    os.makedirs(tmp, exist_ok=True)
    for f in files + ("tokenizer_config.json",):
        shutil.copy(os.path.join(d, f), os.path.join(tmp, f))
    return getattr(transformers, tok_class).from_pretrained(tmp)


def compare(label, exp, got, worst):
    if got.shape != exp.shape:
        fail(f"{label}: shape {got.shape} != {exp.shape}")
        return
    delta = float(np.max(np.abs(got.astype(np.float64) - exp.astype(np.float64)))) if exp.size else 0.0
    worst[label.split(".")[-1]] = max(worst.get(label.split(".")[-1], 0.0), delta)
    if not delta <= TOL:
        fail(f"{label}: max |delta| {delta:.3g} > {TOL}")


def check_folder(name):
    d = os.path.join(MODELS, name)
    with open(os.path.join(d, "expected.json"), encoding="utf-8") as f:
        meta = json.load(f)
    with open(os.path.join(d, "config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    with open(os.path.join(d, "tokenizer_config.json"), encoding="utf-8") as f:
        tok_class = json.load(f)["tokenizer_class"]
    exp = safetensors.numpy.load_file(os.path.join(d, "expected.safetensors"))
    cases = sorted({k.split(".")[0] for k in exp})
    texts = meta["texts"]
    is_st = os.path.exists(os.path.join(d, "modules.json"))
    print(f"{name}: {cfg['architectures'][0]} ({meta['storage']}), cases {cases}")

    tok = transformers.AutoTokenizer.from_pretrained(d)
    max_len = meta["sentence_transformers"]["max_seq_length"] if is_st else tok.model_max_length
    check_ids(tok, "tokenizer.json", texts, exp, max_len, cases)
    with tempfile.TemporaryDirectory() as tmp:
        alt = vocab_only_tokenizer(d, tok_class, os.path.join(tmp, "v"))
        if alt is not None:
            check_ids(alt, f"{tok_class} from {'+'.join(VOCAB_FILES[tok_class])}", texts, exp, max_len, cases)

    model, info = getattr(transformers, cfg["architectures"][0]).from_pretrained(
        d, dtype=torch.float32, attn_implementation="eager", output_loading_info=True)
    if any(info.get(k) for k in ("missing_keys", "unexpected_keys", "mismatched_keys")):
        fail(f"{name}: loading info {info}")
    model.eval()
    worst = {}
    with torch.no_grad():
        for case in cases:
            feeds = {k: torch.from_numpy(exp[f"{case}.{k}"]) for k in ("input_ids", "attention_mask", "token_type_ids")
                     if f"{case}.{k}" in exp}
            res = model(**feeds, output_hidden_states=True, output_attentions=f"{case}.attentions" in exp,
                        return_dict=True)
            got = {"last_hidden_state": res.hidden_states[-1]}
            if f"{case}.hidden_states" in exp:
                got["hidden_states"] = torch.stack(res.hidden_states)
            if f"{case}.attentions" in exp:
                got["attentions"] = torch.stack(res.attentions)
            for k in ("pooler_output", "logits", "start_logits", "end_logits"):
                if getattr(res, k, None) is not None:
                    got[k] = res[k]
            for k, v in got.items():
                if f"{case}.{k}" in exp:
                    compare(f"{case}.{k}", exp[f"{case}.{k}"], v.numpy(), worst)
            stored = {k.split(".", 1)[1] for k in exp if k.startswith(case + ".")}
            unchecked = stored - set(got) - {"input_ids", "attention_mask", "token_type_ids", "sentence_embedding"}
            if unchecked:
                fail(f"{name}: {case} outputs not recomputed: {sorted(unchecked)}")
    if is_st:
        from sentence_transformers import SentenceTransformer
        st = SentenceTransformer(d, device="cpu")
        if st.max_seq_length != max_len:
            fail(f"{name}: max_seq_length {st.max_seq_length} != {max_len}")
        for case in cases:
            emb = st.encode(texts[case], convert_to_numpy=True, batch_size=len(texts[case]))
            compare(f"{case}.sentence_embedding", exp[f"{case}.sentence_embedding"], np.asarray(emb, np.float32), worst)
    print("  max|delta| " + ", ".join(f"{k} {v:.3g}" for k, v in sorted(worst.items())))


def main():
    print(f"transformers {transformers.__version__}, torch {torch.__version__}")
    names = sys.argv[1:] or list(family_folders())
    for name in names:
        check_folder(name)
    print(f"{len(names)} folders, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
