"""Runs transformers 4.x's question-answering pipeline (transformers 5 removed it) on the tiny QA
checkpoints and writes tests/data/pipelines/qa_expected.json for tests/python/test_pipelines_qa.py.
Run with a transformers 4 venv outside the tree:
  python3 -m venv ~/.cache/bertcpp/venv-tf4 && ~/.cache/bertcpp/venv-tf4/bin/pip install "transformers<5" torch numpy safetensors
  ~/.cache/bertcpp/venv-tf4/bin/python tools/make_qa_expected.py
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
SHORT_Q = "Where does Ana live?"
SHORT_C = "Ana lives in Lisbon and works in Porto as a teacher."
ACCENT_Q = "Which café is famous?"
ACCENT_C = "The Café Müller in São Paulo, naïvely called «Müller's», is famous for crème brûlée."
# Long enough to overflow the 64-token models into several stride windows.
LONG_Q = "What did the committee decide about the bridge?"
LONG_C = " ".join(
    f"In year {1900 + i} the town council met at the old hall and discussed the river, the mill and the roads."
    for i in range(8)) + " Finally the committee decided to rebuild the stone bridge before winter. " + " ".join(
    f"Later reports from {2000 + i} mention the market, the school and the harbour." for i in range(4))

CASES = [
    ("short_top1", {"question": SHORT_Q, "context": SHORT_C}),
    ("short_top3", {"question": SHORT_Q, "context": SHORT_C, "top_k": 3}),
    ("short_top5", {"question": SHORT_Q, "context": SHORT_C, "top_k": 5}),
    ("short_impossible_top1", {"question": SHORT_Q, "context": SHORT_C, "handle_impossible_answer": True}),
    ("short_impossible_top3", {"question": SHORT_Q, "context": SHORT_C, "top_k": 3,
                               "handle_impossible_answer": True}),
    ("short_no_align_top3", {"question": SHORT_Q, "context": SHORT_C, "top_k": 3, "align_to_words": False}),
    ("short_max_answer_len2", {"question": SHORT_Q, "context": SHORT_C, "top_k": 3, "max_answer_len": 2}),
    ("accents_top3", {"question": ACCENT_Q, "context": ACCENT_C, "top_k": 3}),
    ("long_top1", {"question": LONG_Q, "context": LONG_C}),
    ("long_top3", {"question": LONG_Q, "context": LONG_C, "top_k": 3}),
    ("long_top5", {"question": LONG_Q, "context": LONG_C, "top_k": 5}),
    ("long_stride16_top5", {"question": LONG_Q, "context": LONG_C, "top_k": 5, "doc_stride": 16}),
    ("long_seq48_top3", {"question": LONG_Q, "context": LONG_C, "top_k": 3, "max_seq_len": 48, "doc_stride": 8}),
    ("long_impossible_top5", {"question": LONG_Q, "context": LONG_C, "top_k": 5, "handle_impossible_answer": True}),
]


def main():
    torch.set_num_threads(1)
    out = {"transformers": transformers.__version__, "torch": torch.__version__, "models": {}}
    with tempfile.TemporaryDirectory() as tmp:
        folders = {
            "tiny-distilbert-qa": os.path.join(MODELS, "tiny-distilbert-qa"),
            "tiny-roberta-qa": os.path.join(MODELS, "tiny-roberta-qa"),
            # head_folders: tiny-bert's weights (token types, 512 positions) plus a seeded QA head.
            "head_folders:question_answering": head_folders.make(MODELS, os.path.join(tmp, "qa"),
                                                                 "question_answering"),
        }
        for name, folder in folders.items():
            qa = pipeline("question-answering", model=folder, tokenizer=folder)
            cases = {}
            for case, kwargs in CASES:
                if name.startswith("head_folders") and case.startswith("long") and "max_seq_len" not in kwargs:
                    kwargs = {**kwargs, "max_seq_len": 64}  # 512 positions: windows as the 64-token models
                cases[case] = {"kwargs": kwargs, "output": plain(qa(**kwargs))}
            batch = [{"question": SHORT_Q, "context": SHORT_C}, {"question": ACCENT_Q, "context": ACCENT_C}]
            cases["batch_top2"] = {"inputs": batch, "kwargs": {"top_k": 2}, "output": plain(qa(batch, top_k=2))}
            out["models"][name] = cases
    path = os.path.join(ROOT, "tests", "data", "pipelines", "qa_expected.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
