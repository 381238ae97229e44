"""transformers' state_dict() names and shapes of the test models -> tests/data/modeling/expected.json
(tests/python/test_modeling_params.py). Run with the reference venv:
    /work/venv/ref/bin/python tools/make_modeling_expected.py
"""
import json
import os

import torch
import transformers
from transformers import BertForMaskedLM, BertForSequenceClassification, BertModel

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(ROOT, "tests", "data", "models")


def main():
    out = {"generator": f"transformers {transformers.__version__}, torch {torch.__version__}", "models": {}}
    for cls, name in ((BertModel, "tiny-bert"), (BertForMaskedLM, "tiny-bert-pretraining-f16"),
                      (BertForSequenceClassification, "tiny-bert-classifier-bf16")):
        m = cls.from_pretrained(os.path.join(MODELS, name), dtype=torch.float32)
        sd = m.state_dict()
        out["models"][f"{cls.__name__}/{name}"] = {
            "state_dict": {k: list(v.shape) for k, v in sd.items()},
            "parameters": [k for k, _ in m.named_parameters()],
            "num_parameters": m.num_parameters(),
            "input_embeddings_shape": list(m.get_input_embeddings().weight.shape),
        }
    dest = os.path.join(ROOT, "tests", "data", "modeling", "expected.json")
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with open(dest, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(dest)


if __name__ == "__main__":
    main()
