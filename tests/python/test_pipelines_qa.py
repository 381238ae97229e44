"""question-answering pipeline() against transformers 4.x's QuestionAnsweringPipeline (transformers 5
removed it): tests/data/pipelines/qa_expected.json, written by tools/make_qa_expected.py on the tiny QA
checkpoints (top_k, stride windows over a long context, handle_impossible_answer, align_to_words)."""
import json
import os

import pytest

import head_folders
from conftest import DATA, MODELS

import bertcpp

with open(os.path.join(DATA, "pipelines", "qa_expected.json"), encoding="utf-8") as _f:
    EXPECTED = json.load(_f)["models"]
REL = 1e-4  # scores: relative


def _same(got, ref, where):
    """Same shape (dict or list of dicts), answer text / start / end exactly, score within REL."""
    assert type(got) is type(ref), (where, got, ref)
    if isinstance(ref, list):
        assert len(got) == len(ref), (where, got, ref)
        for i, (g, r) in enumerate(zip(got, ref)):
            _same(g, r, f"{where}[{i}]")
        return
    assert set(got) == set(ref), (where, got, ref)
    assert (got["answer"], got["start"], got["end"]) == (ref["answer"], ref["start"], ref["end"]), (where, got, ref)
    assert isinstance(got["score"], float), (where, got)
    assert abs(got["score"] - ref["score"]) <= REL * abs(ref["score"]), (where, got, ref)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    return {
        "tiny-distilbert-qa": os.path.join(MODELS, "tiny-distilbert-qa"),
        "tiny-roberta-qa": os.path.join(MODELS, "tiny-roberta-qa"),
        "head_folders:question_answering": head_folders.make(
            MODELS, str(tmp_path_factory.mktemp("qa") / "qa"), "question_answering"),
    }


CASES = [(m, c) for m in EXPECTED for c in EXPECTED[m]]


@pytest.mark.parametrize("model,case", CASES)
def test_question_answering(folders, model, case):
    c = EXPECTED[model][case]
    qa = bertcpp.pipeline("question-answering", model=folders[model])
    got = qa(c["inputs"], **c["kwargs"]) if "inputs" in c else qa(**c["kwargs"])
    _same(got, c["output"], f"{model}/{case}")


def test_long_context_needs_several_windows(folders):
    # The long case must really overflow, or the stride path would go untested.
    tok = bertcpp.AutoTokenizer.from_pretrained(folders["tiny-distilbert-qa"])
    c = EXPECTED["tiny-distilbert-qa"]["long_top5"]["kwargs"]
    enc = tok(c["question"], c["context"], truncation="only_second", max_length=64, stride=32,
              return_overflowing_tokens=True)
    assert len(enc["input_ids"]) >= 3


def test_bad_arguments(folders):
    qa = bertcpp.pipeline("question-answering", model=folders["tiny-distilbert-qa"])
    with pytest.raises(ValueError, match="top_k"):
        qa(question="q?", context="c", top_k=0)
    with pytest.raises(ValueError, match="doc_stride"):
        qa(question="q?", context="c", doc_stride=100, max_seq_len=50)
    with pytest.raises(TypeError, match="unsupported"):
        qa(question="q?", context="c", bogus=1)


def test_pipeline_is_the_engine(folders):
    # One implementation: the pipeline's answers are Model.answers' (the C++ Model::answers).
    c = EXPECTED["tiny-distilbert-qa"]["long_stride16_top5"]["kwargs"]
    qa = bertcpp.pipeline("question-answering", model=folders["tiny-distilbert-qa"])
    engine = qa._engine.answers(c["question"], c["context"], top_k=5, doc_stride=16)
    assert qa(**c) == engine
