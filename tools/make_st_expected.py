"""Runs the real sentence-transformers on the folders of tests/python/st_folders.py and writes
tests/data/sentence_transformers/expected.json, which tests/python/test_sentence_transformers_ref.py
compares bertcpp against. Run with the reference venv (outside the tree):
    /work/venv/ref/bin/python tools/make_st_expected.py
"""
import json
import os
import sys
import tempfile

import numpy as np
import sentence_transformers
import torch
import transformers
from sentence_transformers import SentenceTransformer, util

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "python"))
import st_folders  # noqa: E402
from golden_json import arr  # noqa: E402

TEXTS = ["Replace me by any text you'd like.", "Hello, world!", "a b c d e f g h i j", "The cat sits on the mat."]


def main():
    torch.set_num_threads(1)
    models = os.path.join(ROOT, "tests", "data", "models")
    out = {"generator": f"sentence-transformers {sentence_transformers.__version__}, transformers "
                        f"{transformers.__version__}, torch {torch.__version__} (tools/make_st_expected.py)",
           "texts": TEXTS, "cases": {}}
    cases = out["cases"]
    with tempfile.TemporaryDirectory() as tmp:
        def load(variant):
            return SentenceTransformer(st_folders.make(models, os.path.join(tmp, variant), variant), device="cpu")

        m = load("mean-normalize-prompts")
        emb = m.encode(TEXTS)
        cases["encode"] = arr(emb)
        cases["encode_single"] = arr(m.encode(TEXTS[0]))
        cases["prompt_name_query"] = arr(m.encode(TEXTS, prompt_name="query"))
        cases["prompt"] = arr(m.encode(TEXTS, prompt="Represent this: "))
        cases["truncate_dim_8"] = arr(m.encode(TEXTS, truncate_dim=8))
        cases["truncate_dim_8_normalize"] = arr(m.encode(TEXTS, truncate_dim=8, normalize_embeddings=True))
        for p in ("int8", "uint8", "binary", "ubinary"):
            cases[f"precision_{p}"] = arr(m.encode(TEXTS, precision=p))
        cases["token_embeddings"] = arr(m.encode(TEXTS, output_value="token_embeddings"))
        cases["call_sentence_embedding"] = arr(m(m.tokenize(TEXTS))["sentence_embedding"])
        cases["cos_sim"] = arr(util.cos_sim(emb, emb))
        cases["dimension_truncate_8"] = SentenceTransformer(os.path.join(tmp, "mean-normalize-prompts"),
                                                            device="cpu", truncate_dim=8
                                                            ).get_sentence_embedding_dimension()
        m.max_seq_length = 5
        cases["max_seq_length_5"] = arr(m.encode(TEXTS))

        d = load("default-prompt")
        cases["default_prompt"] = arr(d.encode(TEXTS))
        cases["default_prompt_overridden"] = arr(d.encode(TEXTS, prompt_name=""))
        for mode in st_folders._POOLING_KEYS:
            cases[f"pool_{mode}"] = arr(load(f"pool-{mode}").encode(TEXTS))
    dest = os.path.join(ROOT, "tests", "data", "sentence_transformers", "expected.json")
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with open(dest, "w", encoding="utf-8") as f:
        json.dump(out, f)
        f.write("\n")
    print(dest, os.path.getsize(dest), "bytes")


if __name__ == "__main__":
    main()
