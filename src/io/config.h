// config.json -> a typed BertConfig, with transformers' BertConfig defaults for absent fields.
#pragma once
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bertcpp::io {

enum class Activation { Gelu, GeluNew, GeluPytorchTanh, Relu, Silu };  // "gelu", "gelu_new", ...

struct BertConfig {
  std::string model_type = "bert";
  int64_t vocab_size = 30522;
  int64_t hidden_size = 768;
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 12;
  int64_t intermediate_size = 3072;
  Activation hidden_act = Activation::Gelu;
  std::string hidden_act_name = "gelu";
  double hidden_dropout_prob = 0.1;
  double attention_probs_dropout_prob = 0.1;
  int64_t max_position_embeddings = 512;
  int64_t type_vocab_size = 2;
  double initializer_range = 0.02;
  double layer_norm_eps = 1e-12;
  int64_t pad_token_id = 0;
  std::string position_embedding_type = "absolute";  // only "absolute" is supported
  bool use_cache = true;
  std::optional<double> classifier_dropout;
  std::vector<std::string> architectures;             // e.g. {"BertForSequenceClassification"}
  std::map<int64_t, std::string> id2label;            // default {0:"LABEL_0", 1:"LABEL_1"}
  std::map<std::string, int64_t> label2id;
  int64_t num_labels = 2;
  std::string torch_dtype;                            // "" when absent
  std::optional<std::string> problem_type;

  int64_t head_dim() const { return hidden_size / num_attention_heads; }
};

// Parses and validates (hidden_size % num_attention_heads == 0, positive sizes, known hidden_act,
// absolute position embeddings...). Errors name the file, the field and the value.
BertConfig parse_bert_config(const std::string& json_text, const std::string& source_name);
BertConfig load_bert_config(const std::filesystem::path& config_json);

}  // namespace bertcpp::io
