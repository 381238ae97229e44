// bertcpp::Model: transformers' BertModel (+ its task heads) with the same results, on CPU.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bertcpp/pipelines.hpp"
#include "bertcpp/tensor.h"
#include "bertcpp/tokenizer.hpp"

namespace bertcpp {

// What the weights are computed in. F32 is the reference-parity mode.
enum class ComputeType { F32, BF16, Int8 };
// sentence-transformers' pooling modes: cls, mean, max, mean_sqrt_len (sum / sqrt(count)),
// weightedmean (token i weighs i+1), lasttoken (the last unmasked token).
enum class Pooling { Cls, Mean, Max, MeanSqrtLen, WeightedMean, LastToken };
// "cls", "mean", "max"
const char* pooling_name(Pooling pooling);
// Parses "cls" | "mean" | "max"; anything else throws InvalidArgument naming the value.
Pooling parse_pooling(std::string_view name);

struct ModelOptions {
  int threads = 0;                      // 0 = all cores
  ComputeType compute = ComputeType::F32;
  std::string revision = "main";        // for hub ids
  TokenizerOptions tokenizer;           // overrides for the model folder's tokenizer
};

// A batch as transformers takes it: [batch, seq] int64 tensors, padded; attention_mask 1 = token.
// token_type_ids may be left undefined (= zeros).
struct Batch {
  Tensor input_ids;
  Tensor attention_mask;
  Tensor token_type_ids;
  // Pads encodings to the longest (attention_mask 0 and the tokenizer's pad id on padding).
  static Batch from_encodings(std::span<const Encoding> encodings, int64_t pad_token_id = 0);
  int64_t batch_size() const { return input_ids.dim(0); }
  int64_t seq_len() const { return input_ids.dim(1); }
};

struct OutputRequest {
  bool hidden_states = false;  // every layer's output, embeddings first (num_layers + 1 tensors)
  bool attentions = false;     // every layer's attention probabilities [batch, heads, seq, seq]
  bool pooler_output = true;   // the pooler, when the checkpoint has one
  bool head_outputs = true;    // the task head's logits (off: the base model's outputs only)
};

// Outputs named as in transformers. Tensors a model does not produce are left undefined().
struct ModelOutput {
  Tensor last_hidden_state;            // [batch, seq, hidden]
  Tensor pooler_output;                // [batch, hidden]
  std::vector<Tensor> hidden_states;   // num_layers + 1 of [batch, seq, hidden]
  std::vector<Tensor> attentions;      // num_layers of [batch, heads, seq, seq]
  Tensor logits;                       // sequence classification [batch, labels]; token classification [batch, seq, labels];
                                       // ELECTRA discriminator [batch, seq]
  Tensor prediction_logits;            // masked LM [batch, seq, vocab]
  Tensor seq_relationship_logits;      // pre-training NSP [batch, 2]
  Tensor start_logits, end_logits;     // question answering [batch, seq]
};

// embed()'s choices. Unset = the model folder's sentence-transformers config.
struct EmbedOptions {
  std::optional<Pooling> pooling;
  // true: L2-normalize (the Normalize module's place, else at the end); false: skip every Normalize module.
  std::optional<bool> normalize;
  // A key of Model::prompts(); unset = default_prompt_name (none when the config has none).
  std::optional<std::string> prompt_name;
  // Literal text prepended to every text; wins over prompt_name (as sentence-transformers' encode(prompt=...)).
  std::optional<std::string> prompt;
};

struct LabelScore {
  std::string label;
  int64_t id;
  float score;  // softmax probability
};
struct FillMaskCandidate {
  int64_t token_id;
  std::string token;
  float score;           // softmax probability
  std::string sequence;  // the text with the mask filled, decoded
};
struct TokenPrediction {
  std::string token;
  std::string label;
  float score;
  int64_t start, end;  // code-point offsets into the text
};

struct ModelConfigInfo {
  std::string model_type;              // config.json's ("bert", "xlm-roberta", ...)
  std::string family;                  // the engine family running it ("bert", "roberta", "distilbert", "electra", "mpnet")
  int64_t vocab_size, hidden_size, num_hidden_layers, num_attention_heads, intermediate_size;
  int64_t max_position_embeddings, type_vocab_size;  // type_vocab_size 0: the family has no token types
  int64_t max_sequence_length;         // longest input: max_position_embeddings less the position offset (RoBERTa: pad + 1)
  bool has_pooler;
  std::string hidden_act;
  std::vector<std::string> architectures;
  std::vector<std::string> labels;  // id2label in id order (empty when the model has no classifier)
};

class Model {
 public:
  // A model id ("bert-base-uncased", "BAAI/bge-small-en-v1.5") or a local folder in Hugging Face
  // layout. The head is chosen from config.architectures. A sentence-transformers folder
  // (modules.json, 1_Pooling/config.json, sentence_bert_config.json) sets the embedding defaults.
  static Model from_pretrained(const std::string& id_or_path, const ModelOptions& options = {});

  const Tokenizer& tokenizer() const;
  const ModelConfigInfo& config() const;
  // The id or path the model was loaded from, and the local folder it resolved to.
  const std::string& name() const;
  const std::string& directory() const;
  // embed()'s defaults: sentence-transformers config when present, else mean / no normalization /
  // the tokenizer's model_max_length capped at max_position_embeddings.
  Pooling default_pooling() const;
  bool default_normalize() const;
  int64_t max_seq_length() const;
  // "base", "masked_lm", "pretraining", "discriminator", "sequence_classification", "token_classification",
  // "question_answering"
  const std::string& head() const;

  // transformers' model(**inputs). Thread-safe: concurrent calls on one Model are allowed.
  ModelOutput forward(const Batch& batch, const OutputRequest& request = {}) const;

  // Sentence embeddings [texts, hidden]. Unset pooling/normalize = the sentence-transformers
  // config's, else mean pooling without normalization. Texts longer than max_seq_length are truncated.
  Tensor embed(std::span<const std::string> texts, std::optional<Pooling> pooling = std::nullopt,
               std::optional<bool> normalize = std::nullopt) const;
  // As sentence-transformers' encode(): the prompt prepended, then Pooling, then its Dense and
  // Normalize modules in modules.json order. [texts, embedding_dimension()].
  Tensor embed(std::span<const std::string> texts, const EmbedOptions& options) const;
  // embed()'s output width: the last Dense module's out_features, else hidden_size.
  int64_t embedding_dimension() const;
  // config_sentence_transformers.json's prompts (name → text) and default_prompt_name.
  const std::map<std::string, std::string>& prompts() const;
  const std::optional<std::string>& default_prompt_name() const;
  // The text embed() prepends for `options` ("" for none). An unknown prompt_name throws
  // InvalidArgument listing the model's prompts.
  std::string resolve_prompt(const EmbedOptions& options) const;
  // sentence-transformers' prompt length: the prompt's tokens without a trailing special token
  // ([CLS] counted); pool_embeddings leaves them out when the Pooling config says include_prompt false.
  int64_t prompt_length(const std::string& prompt) const;
  // embed()'s steps, for callers that batch themselves (CLI streaming, server): its tokenization
  // (prompt + text, do_lower_case, truncation at max_seq_length) ...
  std::vector<Encoding> encode_for_embed(std::span<const std::string> texts, const std::string& prompt, int threads = 0) const;
  // ... and its pooling + Dense/Normalize modules on a computed batch. prompt_lengths: one per row
  // (prompt_length() of its prompt), or empty for no prompt.
  Tensor pool_embeddings(const Tensor& last_hidden_state, const Tensor& attention_mask, const EmbedOptions& options,
                         std::span<const int64_t> prompt_lengths = {}) const;
  // Pools an already computed last_hidden_state [batch, seq, hidden] with its attention mask.
  static Tensor pool(const Tensor& last_hidden_state, const Tensor& attention_mask, Pooling pooling, bool normalize);

  // Masked LM head: the top_k fillings of the first mask token of `text`.
  std::vector<FillMaskCandidate> fill_mask(const std::string& text, int top_k = 5) const;
  // Sequence classification head: softmax scores of every label, best first.
  std::vector<LabelScore> classify(const std::string& text, const std::optional<std::string>& text_pair = std::nullopt) const;
  // The same for already tokenized inputs (tokenized with task_encode_options()), batched by
  // length; results in the inputs' order, each bitwise equal to classifying that input alone.
  std::vector<std::vector<LabelScore>> classify(std::span<const Encoding> encodings) const;
  // How the task helpers (classify, rerank, fill-mask, ...) tokenize: longest-first truncation to
  // the model's task length (min(model_max_length, max_position_embeddings)).
  EncodeOptions task_encode_options() const;
  // Cross-encoder reranking: one relevance score per document (the raw logit for single-label
  // models, like TEI), in the documents' order.
  std::vector<float> rerank(const std::string& query, std::span<const std::string> documents) const;
  // Token classification head: one prediction per token (special tokens excluded).
  std::vector<TokenPrediction> classify_tokens(const std::string& text) const;
  // transformers' token-classification pipeline: classify_tokens' probabilities through
  // aggregate_tokens() (aggregation_strategy, ignore_labels; see bertcpp/pipelines.hpp).
  std::vector<TokenEntity> token_entities(const std::string& text, const TokenClassificationOptions& options = {}) const;
  // Question answering head, as transformers' question-answering pipeline: the context in windows
  // (answer_windows), one forward per window, then decode_answers(). The best top_k answers, best first.
  std::vector<Answer> answers(const std::string& question, const std::string& context, const AnswerOptions& options = {}) const;
  // The best of answers() (options.top_k ignored).
  Answer answer(const std::string& question, const std::string& context, const AnswerOptions& options = {}) const;

  struct Impl;

 private:
  std::shared_ptr<const Impl> impl_;
};

}  // namespace bertcpp
