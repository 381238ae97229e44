// The server's view of a model: tokenization for the HTTP router, batched forward passes for the
// scheduler (src/server/queue). ModelBackend (model_backend.cpp) implements it with bertcpp::Model;
// tests can substitute a fake. The router never touches tensors; the scheduler only reads outputs.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bertcpp/model.hpp"
#include "bertcpp/tokenizer.hpp"

namespace bertcpp::server {

// What TEI's /info calls model_type.
enum class ModelKind { Embedding, Classifier, Reranker };

struct BackendInfo {
  std::string model_id;
  std::string model_architecture;        // config.json model_type ("bert", "xlm-roberta", ...)
  std::string model_family;              // the engine family running it ("bert", "roberta", ...)
  std::string model_dtype = "float32";
  ModelKind kind = ModelKind::Embedding;
  std::string pooling = "mean";          // cls | mean | max | splade (embedding models)
  std::vector<std::string> labels;       // id2label in id order (classifier/reranker)
  bool has_classifier = false;           // sequence classification head: /predict, /rerank
  bool has_mlm_head = false;             // masked-LM logits: /embed_sparse
  bool has_token_classifier = false;     // token classification head: /predict_tokens
  bool has_hidden_states = true;         // last_hidden_state: /embed, /embed_all, /similarity
  int64_t hidden_size = 0;
  int64_t embedding_dimension = 0;       // /embed's width: the last Dense module's out_features, else hidden_size
  int64_t vocab_size = 0;
  std::map<std::string, std::string> prompts;  // config_sentence_transformers.json: name -> text
  std::optional<std::string> default_prompt;   // the text of its default_prompt_name
  int64_t max_input_length = 512;        // tokens, special tokens included
};

// What a queued input asks the forward pass for.
enum class Task { Pooled, AllTokens, Sparse, Classify, ClassifyTokens };

// A tokenized input (what TEI's queue calls ValidEncoding).
struct TokenizedInput {
  std::vector<int64_t> input_ids;
  std::vector<int64_t> token_type_ids;
  int64_t prompt_tokens = 0;  // the leading tokens that are a prompt (pooling may leave them out)
};

// One input's result. Pooled: [embedding dimension] (the Dense modules applied, not normalized); AllTokens: rows x hidden, row-major;
// Sparse: [vocab] (SPLADE: max over tokens of log(1 + relu(logit))); Classify: [labels] raw logits;
// ClassifyTokens: rows (tokens) x labels raw logits, row-major.
struct TaskOutput {
  std::vector<float> values;
  int64_t rows = 1;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const BackendInfo& info() const = 0;

  struct EncodeRequest {
    std::string_view text;
    std::optional<std::string_view> text_pair;
    bool add_special_tokens = true;
    bool truncate = false;
    TruncationSide side = TruncationSide::Right;
    int64_t max_length = 512;
  };
  // Tokenizes one input; the full Encoding is returned (ids, type ids, byte offsets, tokens).
  virtual Encoding encode(const EncodeRequest& request) const = 0;
  // Token ids given by the client: the encoding the model will see (ids as given).
  virtual std::string decode(std::span<const int64_t> ids, bool skip_special_tokens) const = 0;
  virtual bool is_special_id(int64_t id) const = 0;
  // The model's tokenizer, for post-processing that joins tokens (/predict_tokens' word groups);
  // nullptr when the backend has none.
  virtual const Tokenizer* tokenizer() const { return nullptr; }
  // sentence-transformers' length of a prompt in tokens (0 for "").
  virtual int64_t prompt_length(const std::string& /*prompt*/) const { return 0; }

  // One padded forward pass over `inputs`; returns one output per input, in order.
  // Called from the scheduler thread only.
  virtual std::vector<TaskOutput> run(std::span<const TokenizedInput* const> inputs,
                                      std::span<const Task> tasks) = 0;
};

// Loads `id_or_dir` with bertcpp::Model. `pooling` overrides the sentence-transformers config
// ("cls", "mean", "max", "splade"; empty = the model's own configuration, else mean).
// TEI's --default-prompt-name / --default-prompt: the prompt used when a request names none
// (unset = the folder's default_prompt_name); both set, or a name not in the model's prompts, throws.
struct DefaultPrompt {
  std::optional<std::string> name;
  std::optional<std::string> text;
};
std::unique_ptr<Backend> make_model_backend(const std::string& id_or_dir, const std::string& pooling,
                                            int threads, ComputeType compute = ComputeType::F32,
                                            const DefaultPrompt& default_prompt = {});

}  // namespace bertcpp::server
