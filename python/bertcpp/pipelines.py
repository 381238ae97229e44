"""A small transformers.pipeline(): fill-mask, text-classification, token-classification,
question-answering and feature-extraction on the engine's task helpers."""
from __future__ import annotations

import os
from typing import Any, Dict, Optional, Union

import numpy as np

from . import _bertcpp

__all__ = ["pipeline", "Pipeline"]

_TASKS = {
    "fill-mask": "fill-mask",
    "text-classification": "text-classification",
    "sentiment-analysis": "text-classification",
    "token-classification": "token-classification",
    "ner": "token-classification",
    "question-answering": "question-answering",
    "feature-extraction": "feature-extraction",
}


class Pipeline:
    """Callable like transformers' pipelines; one input or a list of inputs."""

    def __init__(self, task: str, engine: Any, model_name: str):
        self.task = task
        self._engine = engine
        self.model_name = model_name

    def __call__(self, inputs: Any = None, **kwargs: Any) -> Any:
        if self.task == "question-answering":
            question = kwargs.pop("question", None)
            context = kwargs.pop("context", None)
            if isinstance(inputs, dict):
                question, context = inputs["question"], inputs["context"]
            if question is None or context is None:
                raise ValueError("question-answering needs question= and context=")
            max_answer_len = int(kwargs.pop("max_answer_len", 30))
            self._no_kwargs(kwargs)
            return self._engine.answer(question, context, max_answer_len)
        if isinstance(inputs, (list, tuple)):
            return [self._one(x, dict(kwargs)) for x in inputs]
        return self._one(inputs, kwargs)

    @staticmethod
    def _no_kwargs(kwargs: Dict[str, Any]) -> None:
        if kwargs:
            raise TypeError(f"unsupported pipeline arguments {sorted(kwargs)}")

    def _one(self, text: Any, kwargs: Dict[str, Any]) -> Any:
        if self.task == "fill-mask":
            top_k = int(kwargs.pop("top_k", 5))
            self._no_kwargs(kwargs)
            return self._engine.fill_mask(text, top_k)
        if self.task == "text-classification":
            top_k = kwargs.pop("top_k", 1)
            pair = None
            if isinstance(text, dict):
                text, pair = text["text"], text.get("text_pair")
            self._no_kwargs(kwargs)
            scores = [{"label": s["label"], "score": s["score"]} for s in self._engine.classify(text, pair)]
            return scores if top_k is None else (scores[0] if top_k == 1 else scores[:int(top_k)])
        if self.task == "token-classification":
            self._no_kwargs(kwargs)
            return self._engine.classify_tokens(text)
        if self.task == "feature-extraction":
            self._no_kwargs(kwargs)
            tok = self._engine.tokenizer
            enc = tok.encode_batch([text])[0]
            out = self._engine.forward(np.asarray([enc.input_ids], dtype=np.int64),
                                       np.asarray([enc.attention_mask], dtype=np.int64),
                                       np.asarray([enc.token_type_ids], dtype=np.int64), False, False)
            return out["last_hidden_state"].tolist()
        raise ValueError(f"unknown task {self.task!r}")


def pipeline(task: str, model: Optional[Union[str, os.PathLike]] = None, tokenizer: Any = None,
             threads: int = 0, **kwargs: Any) -> Pipeline:
    """transformers.pipeline(task, model=id_or_folder) for fill-mask, text-classification
    (sentiment-analysis), token-classification (ner), question-answering, feature-extraction."""
    if task not in _TASKS:
        raise ValueError(f"unsupported task {task!r}; bertcpp has {sorted(_TASKS)}")
    if model is None:
        raise ValueError("bertcpp's pipeline needs model= (a model id or a local folder)")
    ignored = {"device", "framework", "revision", "use_fast", "trust_remote_code", "model_kwargs"}
    extra = set(kwargs) - ignored
    if extra:
        raise TypeError(f"unsupported pipeline arguments {sorted(extra)}")
    if kwargs.get("device") not in (None, -1, "cpu"):
        raise ValueError("bertcpp runs on the CPU")
    path = os.fspath(model)
    engine = _bertcpp.Model.from_pretrained(path, threads=threads, revision=kwargs.get("revision") or "main")
    return Pipeline(_TASKS[task], engine, path)


