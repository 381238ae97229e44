"""Makes the Dense modules of tests/data/st_dense/ with the real sentence-transformers (random
weights, seeded; saved by Dense.save as the library writes them) and the real encode() outputs of
the folders tests/python/st_folders.make_dense assembles around them (expected.json), which
tests/python/test_st_dense_ref.py compares bertcpp against. Run with the reference venv:
    /work/venv/ref/bin/python tools/make_st_dense.py
"""
import json
import os
import shutil
import sys
import tempfile

import numpy as np
import sentence_transformers
import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.models import Dense

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "python"))
import st_folders  # noqa: E402

TEXTS = ["Replace me by any text you'd like.", "Hello, world!", "a b c d e f g h i j", "The cat sits on the mat."]
# module folder -> (in, out, bias, activation)
DENSE = {
    "2_Dense": (32, 16, True, torch.nn.Tanh()),
    "3_Dense": (16, 8, False, torch.nn.Identity()),
    "gelu_Dense": (32, 12, True, torch.nn.GELU()),
    "sigmoid_Dense": (32, 12, True, torch.nn.Sigmoid()),
    "relu_Dense": (32, 12, True, torch.nn.ReLU()),
    "silu_Dense": (32, 12, False, torch.nn.SiLU()),
}


def main():
    torch.manual_seed(15)
    torch.set_num_threads(1)
    data = os.path.join(ROOT, "tests", "data", "st_dense")
    os.makedirs(data, exist_ok=True)
    for name, (fin, fout, bias, act) in DENSE.items():
        d = Dense(fin, fout, bias=bias, activation_function=act)
        with torch.no_grad():
            d.linear.weight.normal_(0, 0.3)
            if bias:
                d.linear.bias.normal_(0, 0.1)
        shutil.rmtree(os.path.join(data, name), ignore_errors=True)
        os.makedirs(os.path.join(data, name))
        d.save(os.path.join(data, name))
        if name == "2_Dense":  # the same module as pytorch_model.bin (torch zip), for the .bin reader
            shutil.rmtree(os.path.join(data, name + "_bin"), ignore_errors=True)
            os.makedirs(os.path.join(data, name + "_bin"))
            d.save(os.path.join(data, name + "_bin"), safe_serialization=False)
    models = os.path.join(ROOT, "tests", "data", "models")
    cases = {}
    with tempfile.TemporaryDirectory() as tmp:
        for variant in st_folders.DENSE_VARIANTS:
            folder = st_folders.make_dense(models, data, os.path.join(tmp, variant), variant)
            model = SentenceTransformer(folder, device="cpu")
            emb = model.encode(TEXTS, convert_to_numpy=True)
            cases[variant] = {"dimension": model.get_sentence_embedding_dimension(),
                              "shape": list(emb.shape), "data": emb.reshape(-1).tolist()}
            cases[variant + "/single"] = {"data": model.encode(TEXTS[0]).tolist()}
            for name in st_folders.DENSE_PROMPTS:
                cases[variant + "/prompt_name_" + name] = {
                    "data": model.encode(TEXTS, prompt_name=name).reshape(-1).tolist()}
            cases[variant + "/prompt"] = {"data": model.encode(TEXTS, prompt="Hello, ").reshape(-1).tolist()}
            # the folder's small files, so that the C++ tests build the very same folder
            files = {}
            for name in ("modules.json", "1_Pooling/config.json", "sentence_bert_config.json",
                         "config_sentence_transformers.json"):
                with open(os.path.join(folder, name), encoding="utf-8") as f:
                    files[name] = json.load(f)
            cases[variant]["files"] = files
    out = {"generator": f"sentence-transformers {sentence_transformers.__version__}, torch {torch.__version__} "
                        "(tools/make_st_dense.py)", "texts": TEXTS, "cases": cases}
    with open(os.path.join(data, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
