"""Runs the real sentence-transformers CrossEncoder (predict with its default activation, with
apply_softmax, rank) on tiny classification checkpoints of tests/data/models and writes
tests/data/cross_encoder/expected.json for tests/python/test_cross_encoder_ref.py. Run with the
reference venv:  /work/venv/ref/bin/python tools/make_cross_encoder_expected.py
"""
import json
import os

import sentence_transformers
import torch
from sentence_transformers import CrossEncoder

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# f32 checkpoints (a bf16 one runs in bf16 in torch: not comparable at 1e-5)
MODELS = ["tiny-roberta-reranker", "tiny-electra-classifier", "tiny-distilbert-classifier"]
QUERY = "How many people live in Berlin?"
DOCS = ["Berlin has a population of 3,520,031 registered inhabitants.", "New York City is famous for its museums.",
        "Berlin is the capital of Germany.", "x"]
PAIRS = [[QUERY, d] for d in DOCS] + [["A man is eating food.", "A man is eating pasta."]]


def main():
    torch.set_num_threads(1)
    cases = {}
    for name in MODELS:
        model = CrossEncoder(os.path.join(ROOT, "tests", "data", "models", name), device="cpu")
        model.to(torch.float32)  # some configs load in a 16-bit dtype; bertcpp computes in float32
        case = {"num_labels": model.num_labels, "predict": model.predict(PAIRS).tolist(),
                "single": model.predict(PAIRS[0]).tolist()}
        if model.num_labels == 1:
            case["rank"] = model.rank(QUERY, DOCS, return_documents=True)
            case["rank_top2"] = model.rank(QUERY, DOCS, top_k=2)
            case["identity"] = model.predict(PAIRS, activation_fn=torch.nn.Identity()).tolist()
        else:
            case["softmax"] = model.predict(PAIRS, apply_softmax=True).tolist()
        cases[name] = case
    out = {"generator": f"sentence-transformers {sentence_transformers.__version__}, torch {torch.__version__} "
                        "(tools/make_cross_encoder_expected.py)", "query": QUERY, "docs": DOCS, "pairs": PAIRS,
           "cases": cases}
    with open(os.path.join(ROOT, "tests", "data", "cross_encoder", "expected.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
