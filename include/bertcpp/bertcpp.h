/* bertcpp C API: BERT-family models from C (or any language with a C FFI).
 *
 * Conventions (llama.cpp style):
 *   - Opaque handles, created by *_load and released by the matching *_free (NULL is accepted).
 *   - Functions that can fail return an int: 0 (BERTCPP_OK) on success, else the bertcpp_status
 *     code (= the C++ ErrorKind and the CLI's exit code). bertcpp_last_error() then describes the
 *     failure; it is per thread and valid until the next failing call on that thread.
 *   - No exceptions and no C++ types cross this boundary; buffers belong to the caller. A function
 *     that fills a caller buffer takes its capacity (in elements) and, if it is too small, fails
 *     with BERTCPP_ERR_INVALID_ARGUMENT after reporting the required size (when it can).
 *   - A loaded model may be used from several threads at once.
 */
#ifndef BERTCPP_H
#define BERTCPP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bertcpp_model bertcpp_model;
typedef struct bertcpp_tokenizer bertcpp_tokenizer;

enum bertcpp_status {
  BERTCPP_OK = 0,
  BERTCPP_ERR_INTERNAL = 1,
  BERTCPP_ERR_INVALID_ARGUMENT = 2,
  BERTCPP_ERR_INVALID_FILE = 3,
  BERTCPP_ERR_NOT_FOUND = 4,
  BERTCPP_ERR_NETWORK = 5,
  BERTCPP_ERR_UNSUPPORTED = 6,
  BERTCPP_ERR_UNAUTHORIZED = 7
};

enum bertcpp_pooling {
  BERTCPP_POOLING_DEFAULT = -1, /* the model's (sentence-transformers config, else mean) */
  BERTCPP_POOLING_CLS = 0,
  BERTCPP_POOLING_MEAN = 1,
  BERTCPP_POOLING_MAX = 2,
  BERTCPP_POOLING_MEAN_SQRT_LEN = 3, /* sentence-transformers' mean_sqrt_len_tokens */
  BERTCPP_POOLING_WEIGHTED_MEAN = 4, /* weightedmean_tokens: token i weighs i + 1 */
  BERTCPP_POOLING_LAST_TOKEN = 5     /* lasttoken */
};

enum bertcpp_compute { BERTCPP_COMPUTE_F32 = 0, BERTCPP_COMPUTE_BF16 = 1, BERTCPP_COMPUTE_INT8 = 2 };

struct bertcpp_model_params {
  int32_t n_threads;    /* 0 = all cores */
  int32_t compute;      /* enum bertcpp_compute */
  const char* revision; /* hub revision for model ids; NULL = "main" */
};

/* "0.1.0" */
const char* bertcpp_version(void);
/* The message of the last failure on this thread ("" if none). */
const char* bertcpp_last_error(void);

struct bertcpp_model_params bertcpp_model_default_params(void);

/* A model id ("BAAI/bge-small-en-v1.5") or a local folder in Hugging Face layout. params may be
 * NULL (defaults). On success *out is a new handle; on failure *out is NULL. */
int bertcpp_model_load(const char* id_or_path, const struct bertcpp_model_params* params, bertcpp_model** out);
void bertcpp_model_free(bertcpp_model* model);

/* Sizes of a loaded model (0 for a NULL model). */
int64_t bertcpp_model_hidden_size(const bertcpp_model* model);
int64_t bertcpp_model_max_seq_length(const bertcpp_model* model);
/* Number of classifier labels (0 when the model has no classification head), and the name of
 * label i (NULL when out of range; valid as long as the model). */
int64_t bertcpp_model_n_labels(const bertcpp_model* model);
const char* bertcpp_model_label(const bertcpp_model* model, int64_t i);

/* Width of an embedding: the last sentence-transformers Dense module's out_features, else hidden_size. */
int64_t bertcpp_model_embedding_dimension(const bertcpp_model* model);

/* Sentence embeddings of n_texts UTF-8 texts into out, row-major [n_texts, embedding_dimension]
 * (pooling, then the folder's Dense/Normalize modules, as sentence-transformers' encode());
 * out_capacity >= n_texts * bertcpp_model_embedding_dimension floats. normalize: -1 = model
 * default, 0 = no (Normalize modules skipped), 1 = L2. The model's default prompt applies. */
int bertcpp_embed(const bertcpp_model* model, const char* const* texts, size_t n_texts, int pooling, int normalize,
                  float* out, size_t out_capacity);
/* bertcpp_embed with a prompt prepended to every text: prompt (literal text) when not NULL, else
 * prompt_name (a key of config_sentence_transformers.json's prompts; unknown = BERTCPP_ERR_INVALID_ARGUMENT)
 * when not NULL, else the model's default_prompt_name. */
int bertcpp_embed_with_prompt(const bertcpp_model* model, const char* const* texts, size_t n_texts, int pooling,
                              int normalize, const char* prompt_name, const char* prompt, float* out, size_t out_capacity);

/* last_hidden_state of one padded batch: input_ids [batch, seq] (row-major); attention_mask and
 * token_type_ids may be NULL (all ones / all zeros). out_capacity >= batch * seq * hidden_size. */
int bertcpp_forward(const bertcpp_model* model, const int64_t* input_ids, const int64_t* attention_mask,
                    const int64_t* token_type_ids, size_t batch, size_t seq, float* out, size_t out_capacity);

/* Sequence classification: the probability of every label, in label-id order (see
 * bertcpp_model_label), for text or the pair (text, text_pair); text_pair may be NULL. */
int bertcpp_classify(const bertcpp_model* model, const char* text, const char* text_pair, float* scores,
                     size_t capacity, size_t* n_labels);

/* Tokenizers: a folder / model id, or the tokenizer of a loaded model (its own handle, to free). */
int bertcpp_tokenizer_load(const char* id_or_path, bertcpp_tokenizer** out);
int bertcpp_model_get_tokenizer(const bertcpp_model* model, bertcpp_tokenizer** out);
void bertcpp_tokenizer_free(bertcpp_tokenizer* tokenizer);

/* Token ids of text (with [CLS]/[SEP] when add_special_tokens != 0). *n_ids always receives the
 * number of ids; ids may be NULL with capacity 0 to query it. Fails with
 * BERTCPP_ERR_INVALID_ARGUMENT when capacity < *n_ids. */
int bertcpp_tokenize(const bertcpp_tokenizer* tokenizer, const char* text, int add_special_tokens, int64_t* ids,
                     size_t capacity, size_t* n_ids);

#ifdef __cplusplus
}
#endif

#endif /* BERTCPP_H */
