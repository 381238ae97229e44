"""Token-classification and question-answering checkpoints built from tiny-bert's weights plus a
head drawn from a fixed numpy seed (PCG64: the same on every machine). Shared by the tests and by
tools/make_pipeline_expected.py, which runs transformers' pipelines on the very same folders."""
import importlib.util
import json
import os
import shutil

import numpy as np

_HERE = os.path.dirname(os.path.abspath(__file__))
# tools/safetensors_np.py (reader and writer) under its own name: tests/python has a reader of the same name.
_spec = importlib.util.spec_from_file_location("tools_safetensors_np",
                                               os.path.join(_HERE, "..", "..", "tools", "safetensors_np.py"))
_st = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_st)

NER_LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"]


def make(models_dir, out_dir, head):
    """head: 'token_classification' or 'question_answering'. Returns out_dir."""
    tiny = os.path.join(models_dir, "tiny-bert")
    os.makedirs(out_dir, exist_ok=True)
    for name in ("vocab.txt", "tokenizer_config.json"):
        shutil.copyfile(os.path.join(tiny, name), os.path.join(out_dir, name))
    with open(os.path.join(tiny, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    weights = {"bert." + k: v for k, v in _st.read(os.path.join(tiny, "model.safetensors")).items()
               if not k.startswith("pooler.")}
    rng = np.random.default_rng(1234)
    hidden = config["hidden_size"]
    if head == "token_classification":
        n = len(NER_LABELS)
        config["architectures"] = ["BertForTokenClassification"]
        config["id2label"] = {str(i): label for i, label in enumerate(NER_LABELS)}
        config["label2id"] = {label: i for i, label in enumerate(NER_LABELS)}
        # Large weights: peaked, varied label scores, so aggregation strategies disagree.
        weights["classifier.weight"] = (rng.standard_normal((n, hidden)) * 1.5).astype(np.float32)
        weights["classifier.bias"] = (rng.standard_normal(n) * 0.5).astype(np.float32)
    elif head == "question_answering":
        config["architectures"] = ["BertForQuestionAnswering"]
        weights["qa_outputs.weight"] = (rng.standard_normal((2, hidden)) * 1.5).astype(np.float32)
        weights["qa_outputs.bias"] = (rng.standard_normal(2) * 0.5).astype(np.float32)
    else:
        raise ValueError(head)
    with open(os.path.join(out_dir, "config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
    _st.write(os.path.join(out_dir, "model.safetensors"), weights)
    return out_dir
