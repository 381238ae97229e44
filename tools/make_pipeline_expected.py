"""Runs transformers' pipelines on the test models and writes tests/data/pipelines/expected.json,
which tests/python/test_pipelines_ref.py compares bertcpp's pipeline() against (values and types).
Run with the reference venv (outside the tree):  /work/venv/ref/bin/python tools/make_pipeline_expected.py
"""
import json
import os
import sys
import tempfile

import torch
import transformers
from transformers import pipeline

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "python"))
import head_folders  # noqa: E402
from golden_json import plain  # noqa: E402

MODELS = os.path.join(ROOT, "tests", "data", "models")
CLASSIFIER = os.path.join(MODELS, "tiny-bert-classifier-bf16")
PRETRAINING = os.path.join(MODELS, "tiny-bert-pretraining-f16")
TEXT = "I love this movie, it is great."
NER_TEXT = "John Smith lives in New York and works for Acme Corporation."
NER_TEXT_WORDS = ("Zoë Müller-Lüdenscheidt met Dr. O'Neil at Café Ångström in São Paulo ☃ on 2019-05-03, "
                  "then flew Lufthansa to Reykjavík with Wojciechowski.")


def main():
    torch.set_num_threads(1)
    cases = {}

    def record(name, pipe, *args, **kwargs):
        cases[name] = {"args": list(args), "kwargs": kwargs, "output": plain(pipe(*args, **kwargs))}

    clf = pipeline("text-classification", model=CLASSIFIER, dtype=torch.float32)
    record("clf_single", clf, TEXT)
    record("clf_list", clf, [TEXT, "Terrible."])
    record("clf_top_k_none", clf, TEXT, top_k=None)
    record("clf_top_k_2_list", clf, [TEXT, "Terrible."], top_k=2)
    record("clf_sigmoid", clf, TEXT, top_k=None, function_to_apply="sigmoid")
    record("clf_none", clf, TEXT, function_to_apply="none")
    record("clf_pair", clf, {"text": "A man eats.", "text_pair": "Someone is eating."})

    fill = pipeline("fill-mask", model=PRETRAINING, dtype=torch.float32)
    record("fill_one", fill, "Paris is the [MASK] of France.", top_k=3)
    record("fill_two", fill, "The [MASK] sat on the [MASK].", top_k=2)
    record("fill_targets", fill, "Paris is the [MASK] of France.", targets=["capital", "city", "paris"])
    record("fill_list", fill, ["a [MASK] b", "[MASK] c"], top_k=1)

    with tempfile.TemporaryDirectory() as tmp:
        ner_dir = head_folders.make(MODELS, os.path.join(tmp, "ner"), "token_classification")
        ner = pipeline("token-classification", model=ner_dir, dtype=torch.float32)
        record("ner_none", ner, NER_TEXT)
        record("ner_no_ignore", ner, "New York", ignore_labels=[])
        for strategy in ("simple", "first", "average", "max"):
            record(f"ner_{strategy}", ner, NER_TEXT, aggregation_strategy=strategy)
        # Long words cut into many pieces, accents, punctuation, an unknown character: the word
        # strategies disagree more here (C++ aggregate_tokens, used by pipeline() and /predict_tokens).
        for strategy in ("none", "simple", "first", "average", "max"):
            record(f"ner_words_{strategy}", ner, NER_TEXT_WORDS, aggregation_strategy=strategy, ignore_labels=[])
        # transformers 5 removed the question-answering pipeline: no reference for it here.
    fe = pipeline("feature-extraction", model=os.path.join(MODELS, "tiny-bert"), dtype=torch.float32)
    long_text = " ".join(["word"] * 600)
    cases["fe_truncation"] = {"shape": list(torch.tensor(fe(long_text, truncation=True)).shape)}

    out = {"generator": f"transformers {transformers.__version__}, torch {torch.__version__} "
                        "(tools/make_pipeline_expected.py)", "cases": cases}
    dest = os.path.join(ROOT, "tests", "data", "pipelines", "expected.json")
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with open(dest, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(dest, os.path.getsize(dest), "bytes")


if __name__ == "__main__":
    main()
