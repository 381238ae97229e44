"""A small transformers.pipeline(): fill-mask, text-classification, token-classification,
question-answering and feature-extraction, with transformers' output shapes and keyword arguments."""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional, Sequence, Union

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
_AGGREGATIONS = ("none", "simple", "first", "average", "max")


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _tag(label: str):
    """(B or I, entity type): 'B-PER' -> ('B', 'PER'); a label without a prefix counts as 'I'."""
    if label.startswith("B-") or label.startswith("I-"):
        return label[0], label[2:]
    return "I", label


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
        strategy = kwargs.pop("aggregation_strategy", None) or "none"
        strategy = str(getattr(strategy, "value", strategy)).lower()  # also AggregationStrategy.SIMPLE
        ignore = kwargs.pop("ignore_labels", ["O"])
        kwargs.pop("stride", None)
        self._no_kwargs(kwargs)
        if strategy not in _AGGREGATIONS:
            raise ValueError(f"aggregation_strategy must be one of {list(_AGGREGATIONS)}, got {strategy!r}")
        tok = self._engine.tokenizer
        enc, arrays = self._encode([text])
        out = self._forward(arrays)
        if "logits" not in out or out["logits"].ndim != 3:
            raise _bertcpp.UnsupportedError(f"{self.model_name} has head '{self._engine.head}'; token-classification "
                                            "needs BertForTokenClassification")
        probs = _softmax(np.asarray(out["logits"][0], dtype=np.float64))
        labels = self._labels or [f"LABEL_{i}" for i in range(probs.shape[-1])]
        e = enc[0]
        tokens = e.tokens
        pre = []
        for i, (tid, (start, end)) in enumerate(zip(e.input_ids, e.offsets)):
            if tok.is_special_id(int(tid)):
                continue
            word = tokens[i]
            is_subword = len(word) != len(text[start:end])  # the '##' prefix: a continuation piece
            if int(tid) == tok.unk_token_id:
                word, is_subword = text[start:end], False
            pre.append({"word": word, "scores": probs[i], "start": int(start), "end": int(end), "index": i,
                        "is_subword": is_subword})
        if strategy in ("none", "simple"):
            entities = []
            for p in pre:
                k = int(np.argmax(p["scores"]))
                entities.append({"entity": labels[k], "score": float(p["scores"][k]), "index": p["index"],
                                 "word": p["word"], "start": p["start"], "end": p["end"]})
        else:
            entities = []
            words: List[List[Dict[str, Any]]] = []
            for p in pre:
                if words and p["is_subword"]:
                    words[-1].append(p)
                else:
                    words.append([p])
            for w in words:
                if strategy == "first":
                    scores = w[0]["scores"]
                elif strategy == "max":
                    scores = max(w, key=lambda p: p["scores"].max())["scores"]
                else:
                    scores = np.mean(np.stack([p["scores"] for p in w]), axis=0)
                k = int(np.argmax(scores))
                entities.append({"entity": labels[k], "score": float(scores[k]),
                                 "word": tok.convert_tokens_to_string([p["word"] for p in w]),
                                 "start": w[0]["start"], "end": w[-1]["end"]})
        if strategy != "none":
            entities = self._group(entities)
        return [x for x in entities if x.get("entity") not in ignore and x.get("entity_group") not in ignore]

    def _group(self, entities: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        tok = self._engine.tokenizer

        def close(group: List[Dict[str, Any]]) -> Dict[str, Any]:
            return {"entity_group": _tag(group[0]["entity"])[1], "score": float(np.mean([g["score"] for g in group])),
                    "word": tok.convert_tokens_to_string([g["word"] for g in group]),
                    "start": group[0]["start"], "end": group[-1]["end"]}

        groups: List[Dict[str, Any]] = []
        current: List[Dict[str, Any]] = []
        for ent in entities:
            if current:
                bi, tag = _tag(ent["entity"])
                if tag == _tag(current[-1]["entity"])[1] and bi != "B":
                    current.append(ent)
                    continue
                groups.append(close(current))
            current = [ent]
        if current:
            groups.append(close(current))
        return groups

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

    def _qa_tokenizer(self) -> Any:
        if getattr(self, "_qa_tok", None) is None:
            from .tokenization import AutoTokenizer, BertTokenizer
            tok = BertTokenizer._from_engine(self._engine.tokenizer, self.model_name)
            if not tok.is_fast and self._engine.directory:
                # transformers' pipeline loads AutoTokenizer: the fast one, converted from vocab.txt.
                tok = AutoTokenizer.from_pretrained(self._engine.directory)
            self._qa_tok = tok
        return self._qa_tok

    def _qa_one(self, question: str, context: str, kwargs: Dict[str, Any]) -> Any:
        """transformers 4.x QuestionAnsweringPipeline: the context in overlapping windows of max_seq_len
        tokens (doc_stride shared), spans scored p_start * p_end per window, best top_k over all windows."""
        top_k = int(kwargs.pop("top_k", 1))
        max_answer_len = int(kwargs.pop("max_answer_len", 15))
        handle_impossible = bool(kwargs.pop("handle_impossible_answer", False))
        align_to_words = bool(kwargs.pop("align_to_words", True))
        max_seq_len = kwargs.pop("max_seq_len", None)
        doc_stride = kwargs.pop("doc_stride", None)
        max_question_len = kwargs.pop("max_question_len", 64)  # noqa: F841 - transformers uses it for slow tokenizers only
        kwargs.pop("padding", None)
        self._no_kwargs(kwargs)
        if top_k < 1:
            raise ValueError(f"top_k parameter should be >= 1 (got {top_k})")
        if max_answer_len < 1:
            raise ValueError(f"max_answer_len parameter should be >= 1 (got {max_answer_len})")
        tok = self._qa_tokenizer()
        if not tok.is_fast:
            raise NotImplementedError("question-answering needs the fast tokenizer (offsets and overflowing windows)")
        if max_seq_len is None:
            max_seq_len = min(int(tok.model_max_length), 384)
        max_seq_len = int(max_seq_len)
        if doc_stride is None:
            doc_stride = min(max_seq_len // 2, 128)
        doc_stride = int(doc_stride)
        if doc_stride > max_seq_len:
            raise ValueError(f"doc_stride ({doc_stride}) is larger than max_seq_len ({max_seq_len})")
        question_first = tok.padding_side == "right"
        first, second = (question, context) if question_first else (context, question)
        enc = tok(first, second, truncation="only_second" if question_first else "only_first",
                  max_length=max_seq_len, stride=doc_stride, return_token_type_ids=True,
                  return_overflowing_tokens=True, return_offsets_mapping=True)
        context_seq = 1 if question_first else 0
        no_types = int(self._engine.config.get("type_vocab_size") or 0) <= 1
        cls_id = tok.cls_token_id
        # transformers asks for more candidates when aligning to words: some merge into one answer.
        pre_top_k = top_k * 2 + 10 if align_to_words else top_k
        min_null = 1000000.0
        answers: List[Dict[str, Any]] = []
        for span in range(len(enc["input_ids"])):
            # One window per forward, unpadded, as transformers' pipeline feeds them.
            ids = np.asarray(enc["input_ids"][span], dtype=np.int64)
            types = np.asarray(enc["token_type_ids"][span], dtype=np.int64)
            if no_types:
                types = np.zeros_like(types)  # families without token types: transformers does not pass them
            attention = np.asarray(enc["attention_mask"][span], dtype=np.int64)
            out = self._engine.forward(ids[None], attention[None], types[None], False, False)
            # transformers' p_mask: 1 on the question and special tokens (question first only); [CLS] allowed.
            p_mask = np.array([int(sid != 1) if question_first else 0 for sid in enc.sequence_ids(span)],
                              dtype=np.int64)
            if cls_id is not None:
                p_mask[ids == cls_id] = 0
            allowed = (1 - p_mask) & attention
            start = np.where(allowed == 0, np.float32(-10000.0), np.asarray(out["start_logits"][0], np.float32))
            end = np.where(allowed == 0, np.float32(-10000.0), np.asarray(out["end_logits"][0], np.float32))
            start = np.exp(start - start.max())
            start = start / start.sum()
            end = np.exp(end - end.max())
            end = end / end.sum()
            if handle_impossible:
                min_null = min(min_null, float(start[0] * end[0]))
            start[0] = end[0] = 0.0
            candidates = np.tril(np.triu(np.outer(start, end)), max_answer_len - 1)
            flat = candidates.ravel()
            if pre_top_k == 1:
                order = np.array([int(np.argmax(flat))])
            elif flat.size < pre_top_k:
                order = np.argsort(-flat)
            else:
                part = np.argpartition(-flat, pre_top_k)[:pre_top_k]
                order = part[np.argsort(-flat[part])]
            s_idx, e_idx = np.unravel_index(order, candidates.shape)
            ok_pos = allowed.nonzero()[0]
            keep = np.isin(s_idx, ok_pos) & np.isin(e_idx, ok_pos)
            offsets = enc["offset_mapping"][span]
            for s, e in zip(s_idx[keep], e_idx[keep]):
                a, b = self._qa_chars(enc, span, int(s), int(e), offsets, context_seq, align_to_words)
                text = context[a:b]
                score = float(candidates[s, e])
                # transformers: candidates with the same text (case-insensitive) add their scores.
                same = next((x for x in answers if x["answer"].lower() == text.lower()), None)
                if same is not None:
                    same["score"] += score
                else:
                    answers.append({"score": score, "start": a, "end": b, "answer": text})
        if handle_impossible:
            answers.append({"score": min_null, "start": 0, "end": 0, "answer": ""})
        answers = sorted(answers, key=lambda x: x["score"], reverse=True)[:top_k]
        return answers[0] if len(answers) == 1 else answers

    @staticmethod
    def _qa_chars(enc: Any, span: int, s: int, e: int, offsets: Any, context_seq: int, align_to_words: bool):
        """Character span of tokens s..e; align_to_words widens it to whole words as transformers does."""
        if align_to_words:
            try:
                ws, we = enc.token_to_word(span, s), enc.token_to_word(span, e)
                a = enc.word_to_chars(span, ws, sequence_index=context_seq)[0]
                b = enc.word_to_chars(span, we, sequence_index=context_seq)[1]
                return int(a), int(b)
            except Exception:  # noqa: BLE001 - transformers falls back to the token offsets the same way
                pass
        return int(offsets[s][0]), int(offsets[e][1])


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
