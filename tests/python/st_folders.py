"""sentence-transformers folders built around tests/data/models/tiny-bert (weights and vocabulary
copied: bertcpp refuses links that leave a model folder): shared by the tests and by tools/make_st_expected.py, which runs the real library on
the very same folders. ROTARY_VARIANTS do the same around the NomicBERT, GTE and JinaBERT goldens
(tools/make_st_rotary_expected.py)."""
import json
import os
import shutil

_TINY_FILES = ("config.json", "model.safetensors", "tokenizer_config.json", "vocab.txt")
_POOLING_KEYS = {
    "cls": "pooling_mode_cls_token", "mean": "pooling_mode_mean_tokens", "max": "pooling_mode_max_tokens",
    "mean_sqrt_len": "pooling_mode_mean_sqrt_len_tokens", "weightedmean": "pooling_mode_weightedmean_tokens",
    "lasttoken": "pooling_mode_lasttoken",
}

# name -> (pooling mode, Normalize module?, config_sentence_transformers.json extras, max_seq_length)
VARIANTS = {
    "mean-normalize-prompts": ("mean", True, {"prompts": {"query": "query: ", "passage": "passage: "},
                                              "default_prompt_name": None}, 128),
    "default-prompt": ("cls", False, {"prompts": {"query": "query: ", "": ""}, "default_prompt_name": "query"}, 128),
}
for _mode in _POOLING_KEYS:
    VARIANTS[f"pool-{_mode}"] = (_mode, False, {}, 128)


# The rotary families' golden checkpoints as sentence-transformers folders, with the prompts their model cards
# use: name -> (golden folder, its files, pooling mode, Normalize?, config_sentence_transformers.json extras).
ROTARY_VARIANTS = {
    # nomic-embed-text v1.5: mean pooling, Normalize, task prefixes as prompts, none by default.
    "nomic-mean-normalize-prompts": ("tiny-nomic-bert", "mean", True, {
        "prompts": {"query": "search_query: ", "document": "search_document: ", "classification": "classification: ",
                    "clustering": "clustering: "}, "default_prompt_name": None}),
    # gte-base-en-v1.5: CLS pooling, Normalize; a query instruction as the default prompt.
    "gte-cls-normalize-prompts": ("tiny-gte", "cls", True, {
        "prompts": {"query": "Represent this sentence for searching relevant passages: ", "document": ""},
        "default_prompt_name": "query"}),
    # gte-base-en-v1.5 as the hub ships it (model_type "new", new-impl's remote code): the same ST configuration.
    "gte-new-cls-normalize-prompts": ("tiny-gte-new", "cls", True, {
        "prompts": {"query": "Represent this sentence for searching relevant passages: ", "document": ""},
        "default_prompt_name": "query"}),
    # jina-embeddings-v2: mean pooling, Normalize; retrieval prefixes as prompts, none by default.
    "jina-mean-normalize-prompts": ("tiny-jina-bert", "mean", True, {
        "prompts": {"query": "Represent the query for retrieving evidence documents: ", "document": ""},
        "default_prompt_name": None}),
    # modernbert-embed-base: mean pooling, Normalize; nomic's task prefixes as prompts, none by default.
    "modernbert-mean-normalize-prompts": ("tiny-modernbert", "mean", True, {
        "prompts": {"query": "search_query: ", "document": "search_document: "}, "default_prompt_name": None}),
}
_ROTARY_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "vocab.txt")


def make(models_dir, out_dir, variant):
    """Writes the folder `variant` of VARIANTS (or ROTARY_VARIANTS) into out_dir (created) and returns out_dir."""
    if variant in ROTARY_VARIANTS:
        golden, mode, normalize, st_config = ROTARY_VARIANTS[variant]
        return _write(os.path.join(models_dir, golden), _ROTARY_FILES, out_dir, mode, normalize, st_config, 128)
    mode, normalize, st_config, max_seq_length = VARIANTS[variant]
    return _write(os.path.join(models_dir, "tiny-bert"), _TINY_FILES, out_dir, mode, normalize, st_config,
                  max_seq_length)


def _write(model_dir, model_files, out_dir, mode, normalize, st_config, max_seq_length):
    tiny = os.path.abspath(model_dir)
    os.makedirs(os.path.join(out_dir, "1_Pooling"), exist_ok=True)
    for name in model_files:
        dst = os.path.join(out_dir, name)
        if not os.path.lexists(dst) and os.path.exists(os.path.join(tiny, name)):  # ModernBERT: no vocab.txt
            shutil.copyfile(os.path.join(tiny, name), dst)
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    ]
    if normalize:
        modules.append({"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"})
        os.makedirs(os.path.join(out_dir, "2_Normalize"), exist_ok=True)
    pooling = {"word_embedding_dimension": 32, "pooling_mode_cls_token": False, "pooling_mode_mean_tokens": False,
               "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False,
               "pooling_mode_weightedmean_tokens": False, "pooling_mode_lasttoken": False, "include_prompt": True}
    pooling[_POOLING_KEYS[mode]] = True
    files = {
        "modules.json": modules,
        "1_Pooling/config.json": pooling,
        "sentence_bert_config.json": {"max_seq_length": max_seq_length, "do_lower_case": False},
        "config_sentence_transformers.json": {"__version__": {"sentence_transformers": "3.0.0"}, **st_config},
    }
    for name, content in files.items():
        with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
            json.dump(content, f, indent=2)
    return out_dir


# name -> (base variant of VARIANTS, Dense module folders of tests/data/st_dense in order, Normalize?,
#          Pooling's include_prompt)
DENSE_VARIANTS = {
    "dense-tanh-identity-normalize": ("pool-mean", ["2_Dense", "3_Dense"], True, True),
    "dense-tanh": ("pool-cls", ["2_Dense"], False, True),
    "dense-gelu": ("pool-mean", ["gelu_Dense"], False, True),
    "dense-sigmoid": ("pool-mean", ["sigmoid_Dense"], False, True),
    "dense-relu": ("pool-mean", ["relu_Dense"], False, True),
    "dense-silu-normalize": ("pool-cls", ["silu_Dense"], True, True),
    "exclude-prompt-mean-dense": ("pool-mean", ["2_Dense"], True, False),
    "exclude-prompt-cls": ("pool-cls", [], False, False),
    "exclude-prompt-weightedmean": ("pool-weightedmean", [], False, False),
}
DENSE_PROMPTS = {"query": "query: ", "long": "Represent this sentence for searching relevant passages: "}


def make_dense(models_dir, dense_dir, out_dir, variant):
    """A VARIANTS folder with the Dense modules of dense_dir (tools/make_st_dense.py) after Pooling,
    and the prompts DENSE_PROMPTS."""
    base, dense, normalize, include_prompt = DENSE_VARIANTS[variant]
    make(models_dir, out_dir, base)
    st_config = os.path.join(out_dir, "config_sentence_transformers.json")
    with open(st_config, encoding="utf-8") as f:
        cfg = json.load(f)
    cfg["prompts"] = DENSE_PROMPTS
    with open(st_config, "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2)
    pooling = os.path.join(out_dir, "1_Pooling", "config.json")
    with open(pooling, encoding="utf-8") as f:
        cfg = json.load(f)
    cfg["include_prompt"] = include_prompt
    with open(pooling, "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2)
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    ]
    for name in dense:
        shutil.copytree(os.path.join(dense_dir, name), os.path.join(out_dir, name), dirs_exist_ok=True)
        modules.append({"idx": len(modules), "name": str(len(modules)), "path": name,
                        "type": "sentence_transformers.models.Dense"})
    if normalize:
        os.makedirs(os.path.join(out_dir, "9_Normalize"), exist_ok=True)
        modules.append({"idx": len(modules), "name": str(len(modules)), "path": "9_Normalize",
                        "type": "sentence_transformers.models.Normalize"})
    with open(os.path.join(out_dir, "modules.json"), "w", encoding="utf-8") as f:
        json.dump(modules, f, indent=2)
    return out_dir
