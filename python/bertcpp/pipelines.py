"""A small transformers.pipeline(): fill-mask, text-classification, token-classification,
question-answering and feature-extraction, with transformers' output shapes and keyword arguments."""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional, Sequence

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


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class Pipeline:
    """Callable like transformers' pipelines; one input or a list of inputs."""

    def __init__(self, task: str, engine: Any, model_name: str, **defaults: Any):
        self.task = task
        self._engine = engine
        self.model_name = model_name
        self._defaults = defaults
        folder = engine.directory
        raw: Dict[str, Any] = {}
        if folder and os.path.isfile(os.path.join(folder, "config.json")):
            with open(os.path.join(folder, "config.json"), encoding="utf-8") as f:
                raw = json.load(f)
        labels = list(engine.config.get("labels") or [])
        self._labels = labels
        self._problem_type = raw.get("problem_type")

    # ------------------------------------------------------------------ helpers
    def _encode(self, texts: List[str], pairs: Optional[List[str]] = None, truncation: bool = True):
        tok = self._engine.tokenizer
        enc = tok.encode_batch(texts, pairs, truncation="longest_first" if truncation else "none",
                               max_length=int(self._engine.max_seq_length) if truncation else None,
                               padding="longest")
        return enc, {k: _bertcpp.stack(enc, k) for k in ("input_ids", "attention_mask", "token_type_ids")}

    def _forward(self, arrays: Dict[str, np.ndarray]) -> Dict[str, Any]:
        return self._engine.forward(arrays["input_ids"], arrays["attention_mask"], arrays["token_type_ids"],
                                    False, False)

    @staticmethod
    def _no_kwargs(kwargs: Dict[str, Any]) -> None:
        if kwargs:
            raise TypeError(f"unsupported pipeline arguments {sorted(kwargs)}")

    def __call__(self, inputs: Any = None, *args: Any, **kwargs: Any) -> Any:
        kwargs = {**self._defaults, **kwargs}
        if self.task == "question-answering":
            return self._qa(inputs, *args, **kwargs)
        if args:
            raise TypeError("pass one input (or a list of inputs) and keyword arguments")
        if isinstance(inputs, (list, tuple)):
            return [self._one(x, dict(kwargs), batched=True) for x in inputs]
        return self._one(inputs, kwargs, batched=False)

    def _one(self, text: Any, kwargs: Dict[str, Any], batched: bool) -> Any:
        if self.task == "fill-mask":
            return self._fill_mask(text, kwargs)
        if self.task == "text-classification":
            return self._classify(text, kwargs, batched)
        if self.task == "token-classification":
            return self._ner(text, kwargs)
        if self.task == "feature-extraction":
            truncation = bool(kwargs.pop("truncation", False))
            kwargs.pop("tokenize_kwargs", None)
            kwargs.pop("return_tensors", None)
            self._no_kwargs(kwargs)
            _, arrays = self._encode([text], truncation=truncation)
            return self._forward(arrays)["last_hidden_state"].tolist()
        raise ValueError(f"unknown task {self.task!r}")

    # ------------------------------------------------------------------ text-classification
    def _classify(self, text: Any, kwargs: Dict[str, Any], batched: bool) -> Any:
        legacy = "return_all_scores" in kwargs
        return_all = bool(kwargs.pop("return_all_scores", False))
        top_k = kwargs.pop("top_k", "default")
        function = kwargs.pop("function_to_apply", None)
        kwargs.pop("truncation", None)  # always truncated at the model's maximum length
        self._no_kwargs(kwargs)
        pair = None
        if isinstance(text, dict):
            text, pair = text["text"], text.get("text_pair")
        _, arrays = self._encode([text], None if pair is None else [pair])
        logits = np.asarray(self._forward(arrays)["logits"][0], dtype=np.float64)
        if function is None:
            function = "sigmoid" if (len(logits) == 1 or self._problem_type == "multi_label_classification") \
                else "softmax"
        function = str(getattr(function, "value", function)).lower()
        if function == "softmax":
            scores = _softmax(logits)
        elif function == "sigmoid":
            scores = _sigmoid(logits)
        elif function == "none":
            scores = logits
        else:
            raise ValueError(f"function_to_apply must be 'softmax', 'sigmoid' or 'none', got {function!r}")
        labels = self._labels or [f"LABEL_{i}" for i in range(len(scores))]
        every = [{"label": labels[i], "score": float(scores[i])} for i in range(len(scores))]
        if legacy and return_all:
            return every  # label order, as transformers' return_all_scores=True
        ranked = sorted(every, key=lambda d: -d["score"])
        if top_k == "default":
            # transformers: a list of one dict for a string, a dict for a {"text", "text_pair"} input or in a list
            return ranked[0] if (pair is not None or isinstance(text, dict) or batched) else [ranked[0]]
        return ranked if top_k is None else ranked[:int(top_k)]

    # ------------------------------------------------------------------ fill-mask
    def _fill_mask(self, text: str, kwargs: Dict[str, Any]) -> Any:
        top_k = int(kwargs.pop("top_k", 5))
        targets = kwargs.pop("targets", None)
        self._no_kwargs(kwargs)
        if top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {top_k}")
        tok = self._engine.tokenizer
        if targets is None and not self._several_masks(text):
            return self._engine.fill_mask(text, top_k)
        enc, arrays = self._encode([text])
        ids = arrays["input_ids"][0]
        positions = np.where(ids == tok.mask_token_id)[0]
        if len(positions) == 0:
            raise ValueError(f"no mask token ({tok.mask_token}) found in the input")
        out = self._forward(arrays)
        if "prediction_logits" not in out:
            raise _bertcpp.UnsupportedError(f"{self.model_name} has head '{self._engine.head}'; fill-mask needs a "
                                            "masked LM (BertForMaskedLM/BertForPreTraining)")
        logits = np.asarray(out["prediction_logits"][0], dtype=np.float64)
        target_ids = None
        if targets is not None:
            target_ids = self._target_ids([targets] if isinstance(targets, str) else list(targets))
            top_k = min(top_k, len(target_ids))
        single = len(positions) == 1
        results = []
        for pos in positions:
            probs = _softmax(logits[pos])
            cand = np.asarray(target_ids) if target_ids is not None else np.arange(len(probs))
            order = cand[np.argsort(-probs[cand], kind="stable")][:top_k]
            rows = []
            for t in order:
                filled = ids.copy()
                filled[pos] = t
                rows.append({"score": float(probs[t]), "token": int(t), "token_str": tok.decode([int(t)]),
                             "sequence": tok.decode([int(x) for x in filled], single)})
            results.append(rows)
        return results[0] if single else results

    def _several_masks(self, text: str) -> bool:
        _, arrays = self._encode([text])
        return int((arrays["input_ids"][0] == self._engine.tokenizer.mask_token_id).sum()) > 1

    def _target_ids(self, targets: Sequence[str]) -> List[int]:
        tok = self._engine.tokenizer
        ids: List[int] = []
        for t in targets:
            found = tok.find_token(t)
            if found is None:  # transformers: the first token of the target's tokenization
                pieces = tok.tokenize(t)
                if not pieces:
                    continue
                found = tok.token_to_id(pieces[0])
            if found not in ids:
                ids.append(int(found))
        if not ids:
            raise ValueError("targets: none of the targets is a token of the vocabulary")
        return ids

    # ------------------------------------------------------------------ token-classification
    def _ner(self, text: str, kwargs: Dict[str, Any]) -> List[Dict[str, Any]]:
        """transformers' TokenClassificationPipeline: the C++ aggregate_tokens (bertcpp/pipelines.hpp)."""
        strategy = kwargs.pop("aggregation_strategy", None) or "none"
        strategy = str(getattr(strategy, "value", strategy)).lower()  # also AggregationStrategy.SIMPLE
        ignore = kwargs.pop("ignore_labels", None)
        kwargs.pop("stride", None)
        self._no_kwargs(kwargs)
        if self._engine.head != "token_classification":
            raise _bertcpp.UnsupportedError(f"{self.model_name} has head '{self._engine.head}'; token-classification "
                                            "needs BertForTokenClassification")
        return self._engine.token_entities(text, strategy, None if ignore is None else [str(x) for x in ignore])

    # ------------------------------------------------------------------ question-answering
    def _qa(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        question = kwargs.pop("question", None)
        context = kwargs.pop("context", None)
        if isinstance(inputs, (list, tuple)) and inputs and all(isinstance(x, dict) for x in inputs):
            return [self._qa(x, **dict(kwargs)) for x in inputs]
        if isinstance(inputs, dict):
            question, context = inputs["question"], inputs["context"]
        elif inputs is not None and args:
            question, context = inputs, args[0]
        if question is None or context is None:
            raise ValueError("question-answering needs question= and context=")
        if isinstance(question, (list, tuple)) or isinstance(context, (list, tuple)):
            qs = list(question) if isinstance(question, (list, tuple)) else [question] * len(context)
            cs = list(context) if isinstance(context, (list, tuple)) else [context] * len(qs)
            if len(qs) != len(cs):
                raise ValueError(f"question-answering: {len(qs)} questions for {len(cs)} contexts")
            return [self._qa(question=q, context=c, **dict(kwargs)) for q, c in zip(qs, cs)]
        return self._qa_one(str(question), str(context), kwargs)

    def _qa_one(self, question: str, context: str, kwargs: Dict[str, Any]) -> Any:
        """transformers 4.x QuestionAnsweringPipeline: the C++ Model::answers (windows of max_seq_len
        tokens sharing doc_stride, spans scored p_start * p_end, best top_k over all windows)."""
        top_k = int(kwargs.pop("top_k", 1))
        max_answer_len = int(kwargs.pop("max_answer_len", 15))
        handle_impossible = bool(kwargs.pop("handle_impossible_answer", False))
        align_to_words = bool(kwargs.pop("align_to_words", True))
        max_seq_len = kwargs.pop("max_seq_len", None)
        doc_stride = kwargs.pop("doc_stride", None)
        kwargs.pop("max_question_len", None)  # transformers uses it for slow tokenizers only
        kwargs.pop("padding", None)
        self._no_kwargs(kwargs)
        if top_k < 1:
            raise ValueError(f"top_k parameter should be >= 1 (got {top_k})")
        if max_answer_len < 1:
            raise ValueError(f"max_answer_len parameter should be >= 1 (got {max_answer_len})")
        answers = self._engine.answers(question, context, top_k=top_k, max_answer_len=max_answer_len,
                                       handle_impossible_answer=handle_impossible, align_to_words=align_to_words,
                                       max_seq_len=None if max_seq_len is None else int(max_seq_len),
                                       doc_stride=None if doc_stride is None else int(doc_stride))
        return answers[0] if len(answers) == 1 else answers


def pipeline(task: str, model: Any = None, tokenizer: Any = None, threads: int = 0, **kwargs: Any) -> Pipeline:
    """transformers.pipeline(task, model=id_or_folder_or_model) for fill-mask, text-classification
    (sentiment-analysis), token-classification (ner), question-answering, feature-extraction.
    model may be a bertcpp model object (BertModel, BertFor..., SentenceTransformer); tokenizer may
    be given (the model's own tokenizer is used: it is the one it was loaded with)."""
    if task not in _TASKS:
        raise ValueError(f"unsupported task {task!r}; bertcpp has {sorted(_TASKS)}")
    if model is None:
        raise ValueError("bertcpp's pipeline needs model= (a model id, a local folder or a bertcpp model)")
    ignored = {"device", "framework", "revision", "use_fast", "trust_remote_code", "model_kwargs", "dtype",
               "torch_dtype", "config"}
    call_defaults = {"aggregation_strategy", "ignore_labels", "top_k", "function_to_apply", "targets",
                     "truncation", "return_all_scores", "max_answer_len", "handle_impossible_answer",
                     "doc_stride", "max_seq_len", "max_question_len", "align_to_words"}
    extra = set(kwargs) - ignored - call_defaults
    if extra:
        raise TypeError(f"unsupported pipeline arguments {sorted(extra)}")
    if kwargs.get("device") not in (None, -1, "cpu"):
        raise ValueError("bertcpp runs on the CPU")
    defaults = {k: kwargs[k] for k in call_defaults if k in kwargs}
    if hasattr(model, "_engine"):
        engine = model._engine
        name = getattr(model, "name_or_path", None) or getattr(model, "model_name_or_path", None) or engine.name
    elif isinstance(model, (str, os.PathLike)):
        name = os.fspath(model)
        engine = _bertcpp.Model.from_pretrained(name, threads=threads, revision=kwargs.get("revision") or "main")
    else:
        raise TypeError(f"model must be a model id, a folder or a bertcpp model, got {type(model).__name__}")
    return Pipeline(_TASKS[task], engine, name, **defaults)
