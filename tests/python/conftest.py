import importlib.util
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

# The tests never touch the network: model ids are resolved from the local cache only.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

DATA = os.environ.get("BERTCPP_TEST_DATA") or os.path.join(HERE, "..", "data")
MODELS = os.path.join(DATA, "models")
TINY_BERT = os.path.join(MODELS, "tiny-bert")
PRETRAINING = os.path.join(MODELS, "tiny-bert-pretraining-f16")
CLASSIFIER = os.path.join(MODELS, "tiny-bert-classifier-bf16")
HAS_TORCH = importlib.util.find_spec("torch") is not None

requires_torch = pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")


@pytest.fixture(scope="session")
def data_dir():
    return DATA
